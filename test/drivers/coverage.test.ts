/**
 * docs/drivers.md's coverage table kept true: every case marked covered
 * or partial names at least one test file, and each file it names
 * mentions the case (in a test title or the file's header), so a case
 * cannot be claimed for a test that does not exist or says nothing of it.
 */
import { it, expect } from 'vitest'
import { readFileSync } from 'node:fs'

const doc = readFileSync(new URL('../../docs/drivers.md', import.meta.url), 'utf8')
const rows = doc
  .split('\n')
  .map((l) => /^\| (T-[A-Z]+-\d+|S-[A-L]\d|§4\.\d) \| ([^|]*) \| (covered|partial|missing) \|/.exec(l))
  .filter((r): r is RegExpExecArray => r !== null)

it('the table has every SPEC §14 and SECURITY.md case once', () => {
  const ids = rows.map((r) => r[1])
  expect(new Set(ids).size).toBe(ids.length)
  const spec = ['T-NUM-1', 'T-NUM-2', 'T-NUM-3', 'T-NUM-4', 'T-CDEV-1', 'T-CDEV-2', 'T-PIPE-1', 'T-ACC-1', 'T-MEM-1', 'T-MEM-2', 'T-ZERO-1', 'T-UIO-1', 'T-UIO-2']
  for (let i = 1; i <= 7; i++) spec.push(`T-SC-${i}`)
  for (let i = 1; i <= 15; i++) spec.push(`T-MM-${i}`)
  const sec: string[] = []
  const per: Record<string, number> = { A: 6, B: 9, C: 4, D: 4, E: 3, F: 6, G: 5, H: 5, I: 5, J: 6, K: 4, L: 4 }
  for (const [g, n] of Object.entries(per)) for (let i = 1; i <= n; i++) sec.push(`S-${g}${i}`)
  for (let i = 1; i <= 4; i++) sec.push(`§4.${i}`)
  expect(new Set(ids)).toEqual(new Set([...spec, ...sec]))
  // the counts line says what the rows say
  const n = (st: string): number => rows.filter((r) => r[3] === st).length
  expect(doc).toContain(`${n('covered')} covered, ${n('partial')} partial, ${n('missing')} missing of ${rows.length}`)
})

it('each test file the table names for a case mentions that case', () => {
  for (const [, id, files, status] of rows) {
    if (status === 'missing') continue
    const names = [...files.matchAll(/`([a-z_]+\.test\.ts)`/g)].map((x) => x[1])
    if (status === 'covered') expect(names.length, id).toBeGreaterThan(0)
    for (const f of names) {
      const text = readFileSync(new URL(`./${f}`, import.meta.url), 'utf8')
      expect(text.includes(id), `${id} in ${f}`).toBe(true)
    }
  }
})
