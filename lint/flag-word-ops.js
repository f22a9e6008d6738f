// @ts-check
/**
 * Lint rule `local/flag-word-ops`: no raw bitwise operator on a 64-bit flag
 * word (vm_flags_t, kernel_cap_t: the FlagWord brand of src/include/wide.ts).
 *
 * JS bitwise operators work on 32 bits: `vm_flags | VM_X` silently drops
 * VM_SEALED (2^42), `caps & mask` drops CAP_SYSLOG and above. Only the
 * helpers of src/include/wide.ts (flags_or/and/andnot/xor/test/bit, through
 * vm_flags_* and cap_raised()) may touch the bits.
 *
 * Found by type, not by name: an operand is a flag word when its type (or,
 * for a union, a member; for a type parameter, its constraint) carries the
 * brand property `__flag_word`. Names would miss the aliases where such
 * bugs hide (`oldflags`, `newflags`, `f`, a destructured field) and would
 * flag unrelated `flags` (open(2), gfp, mmap's MAP_*); the brand also makes
 * the compiler refuse a plain number where a vm_flags_t is expected. The
 * cost is typed linting (parserOptions.project in eslint.config.js).
 *
 * Reported: binary `|` `&` `^` `<<` `>>` `>>>`, unary `~`, and the compound
 * assignments `|=` `&=` `^=` `<<=` `>>=` `>>>=`, when an operand is a flag word.
 */
import { ESLintUtils } from '@typescript-eslint/utils'

/** The brand property of FlagWord<Brand> (src/include/wide.ts). */
export const BRAND = '__flag_word'

const BINARY = new Set(['|', '&', '^', '<<', '>>', '>>>'])
const ASSIGN = new Set(['|=', '&=', '^=', '<<=', '>>=', '>>>='])

const createRule = ESLintUtils.RuleCreator.withoutDocs

export default createRule({
  meta: {
    type: 'problem',
    docs: { description: 'forbid raw 32-bit bitwise operators on 64-bit flag words (vm_flags_t, kernel_cap_t)' },
    messages: {
      raw: 'Raw `{{op}}` on a {{kind}} keeps only its low 32 bits: use the flag-word helpers (vm_flags_or/and/andnot/xor/test, cap_raised; src/include/wide.ts).',
    },
    schema: [],
  },
  defaultOptions: [],
  create(context) {
    const services = ESLintUtils.getParserServices(context)
    const checker = services.program.getTypeChecker()

    /**
     * The brand of a flag-word type ('vm_flags_t', ...), or null.
     * @param {import('typescript').Type} type
     * @returns {string | null}
     */
    function brand_of(type) {
      if (type.isUnion()) {
        for (const t of type.types) {
          const b = brand_of(t)
          if (b) return b
        }
        return null
      }
      if (type.isTypeParameter()) {
        const c = checker.getBaseConstraintOfType(type)
        return c && c !== type ? brand_of(c) : null
      }
      const prop = checker.getPropertyOfType(type, BRAND)
      if (!prop) return null
      const t = checker.getTypeOfSymbol(prop)
      return t.isStringLiteral() ? t.value : 'flag word'
    }

    /**
     * @param {import('@typescript-eslint/utils').TSESTree.Node} node
     * @returns {string | null}
     */
    function kind(node) {
      return brand_of(services.getTypeAtLocation(node))
    }

    return {
      BinaryExpression(node) {
        if (!BINARY.has(node.operator)) return
        const k = (node.left.type !== 'PrivateIdentifier' && kind(node.left)) || kind(node.right)
        if (k) context.report({ node, messageId: 'raw', data: { op: node.operator, kind: k } })
      },
      UnaryExpression(node) {
        if (node.operator !== '~') return
        const k = kind(node.argument)
        if (k) context.report({ node, messageId: 'raw', data: { op: '~', kind: k } })
      },
      AssignmentExpression(node) {
        if (!ASSIGN.has(node.operator)) return
        const k = kind(node.left) || kind(node.right)
        if (k) context.report({ node, messageId: 'raw', data: { op: node.operator, kind: k } })
      },
    }
  },
})
