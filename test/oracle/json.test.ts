import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { jparse, jint, jflags, jprot, jget, jstr_out, off_out, ScenarioError } from '../../src/oracle/json.js'
import { replay_scenario } from '../../src/oracle/replay.js'

const num = (s: string): bigint | undefined => jint(jparse(s))

describe('oracle scenario numbers (64-bit two\'s complement, like oracle.c)', () => {
  it('reads integers and strings in decimal and hex, with a sign', () => {
    expect(num('4096')).toBe(4096n)
    expect(num('"4096"')).toBe(4096n)
    expect(num('"0x1000"')).toBe(4096n)
    expect(num('"0X1f"')).toBe(31n)
    expect(num('"-0x1000"')).toBe((1n << 64n) - 4096n)
    expect(num('-1')).toBe((1n << 64n) - 1n)
    expect(num('"0xffffffffffffffff"')).toBe((1n << 64n) - 1n)
    expect(num('18446744073709551615')).toBe((1n << 64n) - 1n)
  })
  it('rejects fractions, exponents, overflow, empty digits and other types', () => {
    for (const s of ['1.5', '1e3', '18446744073709551616', '"0x"', '"-"', '""', '"12a"', 'true', 'null', '[1]']) {
      expect(num(s), s).toBeUndefined()
    }
  })
  it('agrees with BigInt for every u64 written in decimal or hex', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (v) => {
        expect(num(v.toString())).toBe(v)
        expect(num(`"0x${v.toString(16)}"`)).toBe(v)
        expect(num(`"-${v.toString()}"`)).toBe((0n - v) & ((1n << 64n) - 1n))
      }),
    )
  })
})

describe('oracle scenario reader', () => {
  it('looks members up by their first occurrence', () => {
    expect(jint(jget(jparse('{"a": 1, "a": 2}'), 'a'))).toBe(1n)
  })
  it('reports malformed JSON with the byte offset', () => {
    expect(() => jparse('{"a": }')).toThrow(ScenarioError)
    expect(() => jparse('{"a": 1} x')).toThrow(/trailing text/)
    expect(() => jparse('"\u0001"')).toThrow(/control character/)
    expect(() => jparse('{"a" 1}')).toThrow(/expected ':'/)
  })
  it('flags: a list of names and integers, one name, or one integer', () => {
    const t = { private: 2, anonymous: 0x20, fixed: 0x10 }
    expect(jflags(jparse('{"f": ["private", "anonymous", 16]}'), 'f', t, 'x')).toBe(0x32n)
    expect(jflags(jparse('{"f": "fixed"}'), 'f', t, 'x')).toBe(0x10n)
    expect(jflags(jparse('{"f": "0x40000000"}'), 'f', t, 'x')).toBe(0x40000000n)
    expect(jflags(jparse('{"f": 7}'), 'f', t, 'x')).toBe(7n)
    expect(jflags(jparse('{}'), 'f', t, 'x')).toBe(0n)
    expect(() => jflags(jparse('{"f": ["bogus"]}'), 'f', t, 'x')).toThrow(/unknown f entry/)
    expect(() => jflags(jparse('{"f": true}'), 'f', t, 'x')).toThrow(/must be a list/)
  })
  it('prot: letters, none, empty, modifiers, integers', () => {
    const p = (s: string): bigint => jprot(jparse(`{"prot": ${s}}`), 'mprotect')
    expect(p('"rw"')).toBe(3n)
    expect(p('"r-x"')).toBe(5n)
    expect(p('"none"')).toBe(0n)
    expect(p('""')).toBe(0n)
    expect(p('"r|growsdown"')).toBe(0x01000001n)
    expect(p('"rw|growsup"')).toBe(0x02000003n)
    expect(p('"r|sem"')).toBe(9n)
    expect(p('7')).toBe(7n)
    expect(() => p('"rq"')).toThrow(/bad prot/)
  })
  it('prints strings and offsets as oracle.c does', () => {
    expect(jstr_out('a"b\\c\n')).toBe('"a\\"b\\\\c\\u000a"')
    expect(off_out(-4096n)).toBe('-0x1000')
    expect(off_out(0n)).toBe('0x0')
    expect(off_out(0x20000n)).toBe('0x20000')
  })
})

describe('malformed scenarios are refused before anything runs', () => {
  const host = {
    spawn: () => {
      throw new Error('must not be reached')
    },
  }
  for (const [text, msg] of [
    ['[1]', /must be an object/],
    ['{"ops": [], "arena_pages": 0}', /arena_pages must be 1..4096/],
    ['{"ops": [], "arena_pages": 4097}', /arena_pages/],
    ['{"arena_pages": 4}', /no "ops"/],
    ['{"ops": [], "fs": "nfs"}', /unknown fs "nfs"/],
    ['{"ops": [], "fs": 1}', /fs must be a string/],
    ['{"ops": [], "arena_pages": "lots"}', /bad integer "arena_pages"/],
  ] as const) {
    it(text, () => {
      expect(() => replay_scenario(text, host)).toThrow(ScenarioError)
      expect(() => replay_scenario(text, host)).toThrow(msg)
    })
  }
})

describe('the scenario reader agrees with JSON.parse on ordinary JSON', () => {
  const plain = (n: ReturnType<typeof jparse>): unknown => {
    switch (n.type) {
      case 'null':
        return null
      case 'bool':
        return n.value
      case 'num':
        return Number(n.raw)
      case 'str':
        return n.value
      case 'arr':
        return n.items.map(plain)
      case 'obj': {
        const o: Record<string, unknown> = {}
        for (const [k, v] of n.members) if (!Object.hasOwn(o, k)) o[k] = plain(v)
        return o
      }
    }
  }
  it('same values for any JSON text without duplicate keys or fractions', () => {
    // Any code point but the surrogates, drawn as fc.string({ unit: 'binary' }) draws them (the
    // same nat, mapped around the surrogate range), without the reverse map of all 1.1 million
    // code points fast-check builds for that unit to cut its dangerous-string slices into it
    // (1-3 s per worker). Object keys keep fc.string() and its slices ('__proto__', ...).
    const code_point = fc.nat({ max: 0x10ffff - 0x800 }).map((i) => String.fromCodePoint(i < 0xd800 ? i : i + 0x800))
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.constant(null),
        fc.boolean(),
        fc.integer(),
        fc.string({ unit: code_point }),
        fc.array(tie('v')),
        fc.dictionary(fc.string().filter((k) => k !== '__proto__'), tie('v')),
      ),
    })).v
    fc.assert(
      fc.property(value, fc.integer({ min: 0, max: 2 }), (v, indent) => {
        const text = JSON.stringify(v, null, indent)
        expect(plain(jparse(text))).toEqual(JSON.parse(text))
      }),
      { numRuns: 300 },
    )
  })
})
