/** Every trace format and compression gives the same references; malformed traces give one TraceError line. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { TraceParser } from '../../src/trace/parse.js'
import { TraceError } from '../../src/trace/error.js'
import { read_ids } from '../../src/trace/read.js'
import { open_trace } from '../../src/cli/trace_source.js'
import { simulate_file as simulate } from '../../src/cli/trace.js'
import { FIXTURE, fixture_pages } from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'mmsim-trace-test-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
function file(data: string | Uint8Array): string {
  const p = join(dir, `t${n++}`)
  writeFileSync(p, data)
  return p
}

/** The page ids a file reads as, turned back into "first-seen order" ids for comparison. */
async function ids_of(path: string): Promise<number[]> {
  const out: number[] = []
  await read_ids(open_trace(path), (ids, k) => { for (let i = 0; i < k; i++) out.push(ids[i]) })
  return out
}

function dense(pages: number[]): number[] {
  const m = new Map<number, number>()
  return pages.map((p) => { if (!m.has(p)) m.set(p, m.size); return m.get(p) as number })
}

function oracle_general(pages: number[]): Uint8Array {
  const b = new Uint8Array(pages.length * 24)
  const v = new DataView(b.buffer)
  pages.forEach((p, i) => {
    v.setUint32(i * 24, i, true)
    v.setBigUint64(i * 24 + 4, BigInt(p), true)
    v.setUint32(i * 24 + 12, 4096, true)
    v.setBigInt64(i * 24 + 16, -1n, true) // the next-access field is not trusted
  })
  return b
}

describe('trace formats', () => {
  let pages: number[]
  beforeAll(async () => { pages = await fixture_pages() })

  it('csv with a header and CRLF, bare page numbers, gzip, lackey and oracleGeneral all read as the same references', async () => {
    const want = dense(pages)
    const csv = pages.map((p, i) => `${p},${i % 3 ? 'R' : 'W'}`).join('\n') + '\n'
    const cases: [string, string][] = [
      [file('page,op\r\n' + csv.replace(/\n/g, '\r\n')), 'csv'],
      [file(gzipSync(csv)), 'csv'],
      [file(pages.join('\n')), 'pages'], // no final newline
      [file(gzipSync('# a comment\n\n' + pages.join('\n') + '\n')), 'pages'],
      [file('==123== Lackey, an example Valgrind tool\n' + pages.map((p, i) => `${i % 2 ? ' L' : 'I '} ${(p * 4096 + 16).toString(16)},4`).join('\n') + '\n==123== done\n'), 'lackey'],
      [file(oracle_general(pages)), 'oracleGeneral'],
      [file(gzipSync(oracle_general(pages))), 'oracleGeneral'],
    ]
    for (const [path, format] of cases) {
      expect(await ids_of(path)).toEqual(want)
      expect((await simulate(path, { policy: 'lru', frames: 8 })).format).toBe(format)
    }
    expect(await ids_of(FIXTURE)).toEqual(want)
  })

  it('a file cut into odd chunks parses the same (lines and records spanning chunk boundaries)', async () => {
    // 70,000 lines: more than one 64 KiB read, so lines straddle chunks
    const many = Array.from({ length: 70000 }, (_, i) => pages[i % pages.length])
    expect(await ids_of(file(many.map((p) => `${p},R`).join('\n')))).toEqual(dense(many))
    expect(await ids_of(file(oracle_general(many)))).toEqual(dense(many))
  })

  /** The pages and store flags a parser hands on for `bytes` pushed in pieces cut at `cuts`. */
  function parsed(bytes: Uint8Array, cuts: number[]): { pages: number[]; writes: number[] } {
    const pages: number[] = []
    const writes: number[] = []
    const p = new TraceParser('t', (pg, k, w) => {
      for (let i = 0; i < k; i++) {
        pages.push(pg[i])
        writes.push(w[i])
      }
    })
    let at = 0
    for (const c of [...new Set(cuts.map((x) => x % (bytes.length + 1)))].sort((a, b) => a - b).concat(bytes.length)) {
      p.push(bytes.subarray(at, c))
      at = c
    }
    p.end()
    return { pages, writes }
  }

  // fast-check itself, not @fast-check/vitest: importing that under vitest 4 built ~100,000
  // chained test-API wrappers (1.8 s CPU, 230 MB of heap every later GC of the worker walked).
  // Same seed, same 100 cases.
  it('any cut of a trace into pieces (mid-record, mid-line, one byte) parses as the whole does', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.oneof(fc.nat(5000), fc.constantFrom(0, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 7)), { minLength: 1, maxLength: 300 }),
      fc.array(fc.boolean(), { minLength: 300, maxLength: 300 }),
      fc.array(fc.nat(20_000), { maxLength: 60 }),
      async (pg, w, cuts) => {
        const csv = new TextEncoder().encode('page,op\r\n' + pg.map((x, i) => `${x},${w[i] ? 'W' : 'r'}\r\n`).join('') + '7,R')
        const og = oracle_general(pg)
        for (const bytes of [csv, og]) {
          const whole = parsed(bytes, [])
          expect(parsed(bytes, cuts)).toEqual(whole)
          expect(parsed(bytes, Array.from({ length: Math.min(bytes.length, 200) }, (_, i) => i + 1))).toEqual(whole)
        }
        expect(parsed(csv, []).pages).toEqual([...pg, 7])
        expect(parsed(csv, []).writes).toEqual([...pg.map((_, i) => (w[i] ? 1 : 0)), 0])
        expect(parsed(og, []).pages).toEqual(pg)
      },
    ))
  })

  it('lackey: an access crossing a page boundary references both pages; M is a load then a store', async () => {
    const path = file('I  0400fff,4\n S 0402000,8\n M 0403ffe,4\n')
    // pages 0x400,0x401 | 0x402 | 0x403,0x404 twice
    expect(await ids_of(path)).toEqual([0, 1, 2, 3, 4, 3, 4])
    const r = await simulate(path, { policy: 'lru', frames: 2 })
    expect([r.refs, r.misses, r.cold_misses]).toEqual([7, 5, 5]) // the store half of M always hits
  })

  it('an empty file is zero references', async () => {
    const r = await simulate(file(''), { policy: 'opt', frames: 4 })
    expect([r.refs, r.misses, r.miss_ratio, r.format]).toEqual([0, 0, 0, 'empty'])
  })

  it('malformed traces and bad requests are TraceErrors naming the file and line', async () => {
    const bad: [string, RegExp][] = [
      [file('1,R\n2,R\n3,X\n'), /:3: expected <page>,<R\|W>, got '3,X'/],
      [file('1\n2\nfoo\n'), /:3: expected a page number, got 'foo'/],
      [file('header\nsecond header\n'), /:2: not a trace line: 'second header'/],
      [file(' L 10,4\n L zz,4\n'), /:2: expected a lackey record/],
      [file(oracle_general([1, 2]).subarray(0, 40)), /partial 24-byte record/],
      [file(new Uint8Array([0x1f, 0x8b, 1, 2, 3])), /not a valid gzip stream/],
      [file(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3])), /not a valid zstd stream/],
      [join(dir, 'missing'), /no such file/],
    ]
    for (const [path, msg] of bad) {
      const e = await simulate(path, { policy: 'lru', frames: 4 }).catch((x: unknown) => x)
      expect(e).toBeInstanceOf(TraceError)
      expect((e as Error).message).toMatch(msg)
      expect((e as Error).message).not.toContain('\n')
    }
    await expect(simulate(FIXTURE, { policy: 'lru', frames: 0 })).rejects.toThrow(/--frames/)
  })
})

describe('loads and stores', () => {
  it('csv W, lackey S and the store half of M are stores; R, I, L, bare pages and oracleGeneral records are loads', async () => {
    const flags = async (path: string): Promise<number[]> => {
      const out: number[] = []
      await read_ids(open_trace(path), (_ids, k, writes) => { for (let i = 0; i < k; i++) out.push(writes[i]) })
      return out
    }
    expect(await flags(file('1,R\n2,W\n3,w\n4,r\n'))).toEqual([0, 1, 1, 0])
    expect(await flags(file('I  0400000,4\n L 1000,8\n S 2000,8\n M 3ffc,8\n'))).toEqual([0, 0, 1, 0, 0, 1, 1])
    expect(await flags(file('5\n6\n'))).toEqual([0, 0])
  })
})
