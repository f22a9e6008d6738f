import { Machine, type MachineOptions } from '../src/index.js'

/** A machine with the invariant checker on after every kernel API call, as every test runs it. */
export function boot(opts: MachineOptions = {}): Machine {
  const m = new Machine({ arch: 'x86_64', ram: '64M', seed: 1, debug_vm: true, ...opts })
  m.check()
  return m
}
