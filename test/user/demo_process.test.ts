import { describe, expect, it } from 'vitest'
import { Machine } from '../../src/index.js'
import { run_process_demo } from '../../src/cli/demo_process.js'

describe('the process demo', () => {
  it('walks through exec, demand faults, the zero page, COW and SIGSEGV with numbers from the machine', () => {
    const m = new Machine({ ram: '64M', seed: 1, debug_vm: true })
    const lines: string[] = []
    run_process_demo(m, (l) => lines.push(l))
    const text = lines.join('\n')
    if (process.env.SHOW_DEMO) console.log(text)
    expect(text).toMatch(/\[stack\]/)
    expect(text).toMatch(/mincore: 000 /)
    expect(text).toMatch(/pte\[\d+\] in pfn 0x[0-9a-f]+: /)
    expect(text).toMatch(/parent reads "hello", child reads "HELLO"/)
    expect(text).toMatch(/SIGSEGV \(SEGV_ACCERR\)/)
    expect(text).toMatch(/wait\(\) says "signal:SIGSEGV"/)
    expect(text).toMatch(/mm_struct +1 objects in use/)
    expect(text).toMatch(/total kB/)
  })
})
