/**
 * vm.max_map_count at its default (65530), as the real kernel enforces it:
 * test/fixtures/probes/max_map_count.c ran on Linux 6.18.44 and recorded
 * max_map_count.txt; the same steps here must print the same lines. A
 * process reaches 65531 VMAs (do_mmap refuses only above the limit), then
 * every split is refused with ENOMEM except munmap's split of a VMA's tail
 * (vms_gather_munmap_vmas checks only when the range ends inside the VMA),
 * and unmapping a whole VMA makes room for exactly one more.
 */
import { it, expect } from 'vitest'
import { readFileSync } from 'node:fs'
import { Machine, type Process } from '../../src/index.js'
import { ErrnoError } from '../../src/user/errors.js'
import { PROT_NONE, PROT_READ, PROT_WRITE, PROT_EXEC, MAP_PRIVATE, MAP_ANONYMOUS, MAP_FIXED } from '../../src/include/uapi/mman.js'

const PG = 4096
const ANON = MAP_PRIVATE | MAP_ANONYMOUS
const recorded = readFileSync(new URL('../fixtures/probes/max_map_count.txt', import.meta.url), 'utf8')

/** strerror() of what a call threw, 'ok' when it returned. */
function outcome(fn: () => unknown): string {
  try {
    fn()
    return 'ok'
  } catch (e) {
    if (!(e instanceof ErrnoError)) throw e
    if (e.code !== 'ENOMEM') return e.code
    return 'Cannot allocate memory'
  }
}

it('stops at 65531 VMAs and refuses splits there as Linux does', () => {
  const m = new Machine({ arch: 'x86_64', ram: '256M', seed: 1 })
  const p: Process = m.spawn({ name: 'max_map_count' })
  const map_count = (): number => p.mm.map_count
  const out: string[] = []
  const say = (what: string, r: string): void => void out.push(`${what}: ${r} map_count=${map_count()}`)
  const g = p.mmap(0, 5 * PG, PROT_NONE, ANON)
  const big = p.mmap(g + PG, 3 * PG, PROT_READ | PROT_WRITE, ANON | MAP_FIXED)
  let last = 0
  let n = 0
  let err = ''
  for (;; n++) {
    err = outcome(() => (last = p.mmap(0, PG, n & 1 ? PROT_READ : PROT_READ | PROT_WRITE, ANON)))
    if (err !== 'ok') break
  }
  out.push(`one-page mappings: ${n}, then ${err}, map_count=${map_count()}`)
  say('munmap(middle page of 3)', outcome(() => p.munmap(big + PG, PG)))
  say('mprotect(middle page of 3)', outcome(() => p.mprotect(big + PG, PG, PROT_READ)))
  say('mprotect(first page of 3)', outcome(() => p.mprotect(big, PG, PROT_READ)))
  say('munmap(last page of 3)', outcome(() => p.munmap(big + 2 * PG, PG)))
  say('munmap(a whole one-page VMA)', outcome(() => p.munmap(last, PG)))
  say('mmap(one r-x page)', outcome(() => p.mmap(0, PG, PROT_READ | PROT_EXEC, ANON)))
  say('mmap(one more r-x page)', outcome(() => p.mmap(0, PG, PROT_READ | PROT_EXEC, ANON)))
  // The C program's own libc mappings differ from the simulated image's: the count of
  // one-page mappings it took to get there is the one line allowed to differ.
  const strip = (s: string): string => s.replace(/^one-page mappings: \d+, /, 'one-page mappings: N, ')
  expect(out.map(strip).join('\n') + '\n').toBe(strip(recorded))
  // The probe counted /proc/self/maps lines; here too, once (65k lines), minus [vsyscall].
  expect(m.proc(`/proc/${p.pid}/maps`).trimEnd().split('\n').length - 1).toBe(map_count())
  m.check()
})
