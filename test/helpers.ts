import { Machine, type MachineOptions } from '../src/index.js'

/** A machine with the invariant checker on after every kernel API call, as every test runs it. */
export function boot(opts: MachineOptions = {}): Machine {
  const m = new Machine({ arch: 'x86_64', ram: '64M', seed: 1, debug_vm: true, ...opts })
  m.check()
  return m
}

/** The debug_vm machines of the running test, recounted whole when it ends (test/setup.ts). */
export const checked_at_end = new Set<Machine>()

/** A test breaks this machine's invariants on purpose: the end-of-test recount leaves it alone. */
export function corrupted(m: Machine): void {
  checked_at_end.delete(m)
  m.check_touched = (): void => {}
}
