/**
 * The oracle's scenario reader (../shared/oracle/oracle.c, "A tiny JSON
 * reader"), reproduced so that the simulator accepts and rejects exactly the
 * scenarios the oracle does:
 *  - numbers keep their raw text; integers are read as 64-bit two's
 *    complement from a JSON integer or a string ("4096", "0x1000",
 *    "-0x1000"); anything else (fractions, exponents, overflow) is an error;
 *  - a member is looked up by its first occurrence; unknown keys are ignored;
 *  - every error is a ScenarioError: the CLI prints one line on stderr and
 *    exits with status 2, printing nothing on stdout.
 */

export class ScenarioError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ScenarioError'
  }
}

export type JNode =
  | { readonly type: 'null' }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'num'; readonly raw: string }
  | { readonly type: 'str'; readonly value: string }
  | { readonly type: 'arr'; readonly items: JNode[] }
  | { readonly type: 'obj'; readonly members: [string, JNode][] }

/** Parse a scenario text (oracle.c's jvalue(), same accepted syntax). */
export function jparse(text: string): JNode {
  let p = 0
  const fail = (what: string): never => {
    throw new ScenarioError(`scenario JSON: ${what} at byte ${p}`)
  }
  const ws = (): void => {
    while (p < text.length && (text[p] === ' ' || text[p] === '\t' || text[p] === '\n' || text[p] === '\r')) p++
  }
  const str = (): string => {
    p++
    let out = ''
    for (;;) {
      if (p >= text.length) fail('unterminated string')
      const c = text[p++]
      if (c === '"') break
      if (c.charCodeAt(0) < 0x20) fail('control character in string')
      if (c !== '\\') {
        out += c
        continue
      }
      if (p >= text.length) fail('bad escape')
      const e = text[p++]
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e
          break
        case 'b':
          out += '\b'
          break
        case 'f':
          out += '\f'
          break
        case 'n':
          out += '\n'
          break
        case 'r':
          out += '\r'
          break
        case 't':
          out += '\t'
          break
        case 'u': {
          const h = text.slice(p, p + 4)
          if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('bad \\u escape')
          out += String.fromCharCode(parseInt(h, 16))
          p += 4
          break
        }
        default:
          fail('bad escape')
      }
    }
    return out
  }
  const value = (depth: number): JNode => {
    if (depth > 64) fail('nesting too deep')
    ws()
    if (p >= text.length) fail('unexpected end')
    const c = text[p]
    if (c === '{' || c === '[') {
      const isobj = c === '{'
      const close = isobj ? '}' : ']'
      p++
      const items: JNode[] = []
      const members: [string, JNode][] = []
      ws()
      if (p < text.length && text[p] === close) {
        p++
        return isobj ? { type: 'obj', members } : { type: 'arr', items }
      }
      for (;;) {
        ws()
        let key = ''
        if (isobj) {
          if (p >= text.length || text[p] !== '"') fail('expected member name')
          key = str()
          ws()
          if (p >= text.length || text[p] !== ':') fail("expected ':'")
          p++
        }
        const v = value(depth + 1)
        if (isobj) members.push([key, v])
        else items.push(v)
        ws()
        if (p < text.length && text[p] === ',') {
          p++
          continue
        }
        if (p < text.length && text[p] === close) {
          p++
          return isobj ? { type: 'obj', members } : { type: 'arr', items }
        }
        fail(isobj ? "expected ',' or '}'" : "expected ',' or ']'")
      }
    }
    if (c === '"') return { type: 'str', value: str() }
    if (text.startsWith('null', p)) {
      p += 4
      return { type: 'null' }
    }
    if (text.startsWith('true', p)) {
      p += 4
      return { type: 'bool', value: true }
    }
    if (text.startsWith('false', p)) {
      p += 5
      return { type: 'bool', value: false }
    }
    if (c === '-' || (c >= '0' && c <= '9')) {
      const s = p
      if (text[p] === '-') p++
      while (p < text.length && /[0-9.eE+-]/.test(text[p])) p++
      return { type: 'num', raw: text.slice(s, p) }
    }
    return fail('unexpected character')
  }
  const root = value(0)
  ws()
  if (p !== text.length) fail('trailing text')
  return root
}

/** oracle.c's jget(): the first member named key, or undefined. */
export function jget(obj: JNode | undefined, key: string): JNode | undefined {
  if (!obj || obj.type !== 'obj') return undefined
  for (const [k, v] of obj.members) if (k === key) return v
  return undefined
}

const U64 = (1n << 64n) - 1n

/** oracle.c's jint(): the two's-complement 64-bit pattern (as an unsigned BigInt), or undefined. */
export function jint(n: JNode | undefined): bigint | undefined {
  if (!n || (n.type !== 'num' && n.type !== 'str')) return undefined
  const s = n.type === 'num' ? n.raw : n.value
  let i = 0
  let neg = false
  let base = 10n
  if (s[i] === '-') {
    neg = true
    i++
  }
  if (s.length - i > 2 && s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X')) {
    base = 16n
    i += 2
  }
  if (i >= s.length) return undefined
  let v = 0n
  for (; i < s.length; i++) {
    const ch = s[i]
    let d: number
    if (base === 16n) d = /[0-9a-fA-F]/.test(ch) ? parseInt(ch, 16) : -1
    else d = ch >= '0' && ch <= '9' ? ch.charCodeAt(0) - 48 : -1
    if (d < 0) return undefined
    if (v > (U64 - BigInt(d)) / base) return undefined
    v = v * base + BigInt(d)
  }
  return neg ? (0n - v) & U64 : v
}

/** Required integer member (oracle.c's jreq_int()). */
export function jreq_int(obj: JNode, key: string, ctx: string): bigint {
  const v = jint(jget(obj, key))
  if (v === undefined) throw new ScenarioError(`${ctx}: missing or bad integer "${key}"`)
  return v
}

/** Optional integer member; dflt when absent or null (oracle.c's jopt_int()). */
export function jopt_int(obj: JNode, key: string, dflt: bigint, ctx: string): bigint {
  const n = jget(obj, key)
  if (!n || n.type === 'null') return dflt
  const v = jint(n)
  if (v === undefined) throw new ScenarioError(`${ctx}: bad integer "${key}"`)
  return v
}

/** The signed 64-bit reading of a u64 pattern. */
export function s64(v: bigint): bigint {
  return BigInt.asIntN(64, v)
}

/** A flags table: name -> bits. */
export type FlagTable = Readonly<Record<string, number>>

/** oracle.c's jflags(): absent/null 0; an integer; a name; or a list of names and integers, OR-ed. */
export function jflags(obj: JNode, key: string, table: FlagTable, ctx: string): bigint {
  const n = jget(obj, key)
  if (!n || n.type === 'null') return 0n
  if (n.type === 'num') return jreq_int(obj, key, ctx)
  if (n.type === 'str') {
    const b = jint(n)
    if (b !== undefined) return b
    if (!Object.hasOwn(table, n.value)) throw new ScenarioError(`${ctx}: unknown ${key} "${n.value}"`)
    return BigInt(table[n.value])
  }
  if (n.type !== 'arr') throw new ScenarioError(`${ctx}: "${key}" must be a list`)
  let v = 0n
  for (const c of n.items) {
    if (c.type === 'str' && Object.hasOwn(table, c.value)) {
      v |= BigInt(table[c.value])
      continue
    }
    const b = jint(c)
    if (b === undefined) throw new ScenarioError(`${ctx}: unknown ${key} entry`)
    v |= b
  }
  return v
}

/** oracle.c's jprot(): letters of "rwx" / "none" / "" with |growsdown, |growsup, |sem; or an integer. */
export function jprot(obj: JNode, ctx: string): bigint {
  const n = jget(obj, 'prot')
  if (!n) throw new ScenarioError(`${ctx}: missing "prot"`)
  const iv = jint(n)
  if (iv !== undefined) return iv
  if (n.type !== 'str') throw new ScenarioError(`${ctx}: bad prot`)
  let v = 0n
  for (const tok of n.value.split('|')) {
    if (tok === 'none' || tok === '') continue
    if (tok === 'growsdown') v |= 0x01000000n
    else if (tok === 'growsup') v |= 0x02000000n
    else if (tok === 'sem') v |= 0x8n
    else {
      for (const ch of tok) {
        if (ch === 'r') v |= 1n
        else if (ch === 'w') v |= 2n
        else if (ch === 'x') v |= 4n
        else if (ch !== '-') throw new ScenarioError(`${ctx}: bad prot "${n.value}"`)
      }
    }
  }
  return v
}

/** oracle.c's out_jstr(): '"' and '\\' escaped, control characters as \u00XX, the rest raw. */
export function jstr_out(s: string): string {
  let o = '"'
  for (const ch of s) {
    const c = ch.charCodeAt(0)
    if (ch === '"' || ch === '\\') o += '\\' + ch
    else if (c < 0x20) o += '\\u00' + c.toString(16).padStart(2, '0')
    else o += ch
  }
  return o + '"'
}

/** oracle.c's out_off(): "0x3000" / "-0x1000". */
export function off_out(v: bigint): string {
  return v < 0n ? '-0x' + (-v).toString(16) : '0x' + v.toString(16)
}
