/**
 * The lint rule lint/flag-word-ops.js (raw bitwise operators on 64-bit flag
 * words), run by ESLint's RuleTester with type information: each case
 * declares the FlagWord brand the way src/include/wide.ts does.
 */
import { describe, it } from 'vitest'
import { RuleTester } from 'eslint'
import tseslint from 'typescript-eslint'
import { fileURLToPath } from 'node:url'
import rule from '../../lint/flag-word-ops.js'

RuleTester.describe = describe
RuleTester.it = it
RuleTester.itOnly = it.only

// The cases' default project (tsconfig.cases.json) has no standard library and no @types: the
// rule only looks for the FlagWord brand over number, and parsing lib.*.d.ts and @types/node for
// the project service took ~2 of the file's ~3 s.
const tester = new RuleTester({
  languageOptions: {
    parser: tseslint.parser,
    parserOptions: {
      projectService: { allowDefaultProject: ['*.ts'], defaultProject: 'tsconfig.cases.json' },
      tsconfigRootDir: fileURLToPath(new URL('.', import.meta.url)),
    },
  },
})

const header = `
type FlagWord<B extends string> = number & { readonly __flag_word: B }
type vm_flags_t = FlagWord<'vm_flags_t'>
type kernel_cap_t = FlagWord<'kernel_cap_t'>
declare const VM_READ: vm_flags_t
declare const VM_SEALED: vm_flags_t
declare const caps: kernel_cap_t
declare function vm_flags_or(a: vm_flags_t, b: vm_flags_t): vm_flags_t
declare const vma: { vm_flags: vm_flags_t }
declare let n: number
`
type Raw = { messageId: 'raw'; data: { op: string; kind: string } }
const raw = (op: string, kind = 'vm_flags_t'): Raw => ({ messageId: 'raw', data: { op, kind } })
/** A case named after its body, linted as file.ts (one default-project file for every case). */
const ok = (body: string) => ({ name: body, code: header + body, filename: 'file.ts' })
const bad = (body: string, ...errors: Raw[]) => ({ ...ok(body), errors })

// `rule` is a typescript-eslint rule module; ESLint's RuleTester takes it as a core rule.
tester.run('flag-word-ops', rule as never, {
  valid: [
    ok('const f = vm_flags_or(vma.vm_flags, VM_SEALED)'),
    ok('const x = n | 4; const y = n & ~n; n |= 1'),
    ok('const same = vma.vm_flags === VM_READ; const sum = caps + 1'),
    ok('const f: number = 3; const g = f >>> 0'),
  ],
  invalid: [
    bad('const f = vma.vm_flags | VM_SEALED', raw('|')),
    bad('if (vma.vm_flags & 0x2000) n++', raw('&')),
    bad('const m = n & VM_READ', raw('&')),
    bad('const c = ~VM_READ', raw('~')),
    bad('let f = vma.vm_flags; f |= VM_READ', raw('|=')),
    bad('let f = vma.vm_flags; f &= n', raw('&=')),
    bad('const x = vma.vm_flags ^ VM_READ', raw('^')),
    bad('const hi = vma.vm_flags >>> 0', raw('>>>')),
    // an alias keeps the brand: a rule by name would miss it
    bad('const oldflags = vma.vm_flags; const t = oldflags & VM_READ', raw('&')),
    bad('const has = (caps & 2) !== 0', raw('&', 'kernel_cap_t')),
    bad('function f<T extends vm_flags_t>(a: T) { return a | 1 }', raw('|')),
    bad('declare const u: vm_flags_t | undefined; const x = (u ?? 0) & 1', raw('&')),
  ],
})
