import { ErrnoError, Machine, type MachineOptions } from '../src/index.js'

/**
 * Option sets whose freshly booted machine this worker has recounted. Boot is
 * a function of the options alone (one seed drives every choice, no module
 * state: test/mm/boot_determinism.test.ts), so a second machine booted with the
 * same options is in the same state, and its recount would give the same
 * verdict: the first boot of each option set is checked whole, the rest are
 * not checked again (each recount costs a walk of every frame; the suite
 * boots ~1500 machines in a few dozen configurations).
 */
const boots_checked = new Set<string>()

/** A machine with the invariant checker on after every kernel API call, as every test runs it. */
export function boot(opts: MachineOptions = {}): Machine {
  const o: MachineOptions = { arch: 'x86_64', ram: '64M', seed: 1, debug_vm: true, ...opts }
  const m = new Machine(o)
  const key = JSON.stringify(o, Object.keys(o).sort())
  if (!boots_checked.has(key)) {
    m.check()
    boots_checked.add(key)
  }
  return m
}

/** The debug_vm machines of the running test, recounted whole when it ends (test/setup.ts). */
export const checked_at_end = new Set<Machine>()

/** A test breaks this machine's invariants on purpose: the end-of-test recount leaves it alone. */
export function corrupted(m: Machine): void {
  checked_at_end.delete(m)
  m.check_touched = (): void => {}
}

/**
 * n bytes, byte i = f(i) stored as a Uint8Array stores it: what Uint8Array.from({ length: n }, (_, i) => f(i))
 * makes, without its generic per-element iteration (a 32 MiB pattern took seconds).
 */
export function fill_bytes(n: number, f: (i: number) => number): Uint8Array {
  const b = new Uint8Array(n)
  for (let i = 0; i < n; i++) b[i] = f(i)
  return b
}

/** The errno code (e.g. 'ENOMEM') a call throws, or 'ok' when it returns; anything else it throws is rethrown. */
export function errno_of(f: () => unknown): string {
  try {
    f()
  } catch (e) {
    if (e instanceof ErrnoError) return e.code
    throw e
  }
  return 'ok'
}
