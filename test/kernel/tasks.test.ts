/**
 * Task lifecycle in src/kernel: copy_process (fork and CLONE_VM threads),
 * do_exit, release_task, the pid table and kernel threads, through the
 * system-call table as the user side drives it.
 */
import { describe, expect, it } from 'vitest'
import { Machine, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, SignalError } from '../../src/index.js'
import { EXIT_ZOMBIE, PF_KTHREAD } from '../../src/kernel/task.js'

const RW = PROT_READ | PROT_WRITE
const ANON = MAP_PRIVATE | MAP_ANONYMOUS

describe('tasks', () => {
  it('a zombie keeps its pid and task_struct until it is reaped; /proc forgets it at exit', () => {
    const m = new Machine({ ram: '64M', debug_vm: true })
    const p = m.spawn({ name: 'parent' })
    const live = () => m.kernel_objects.count('task_struct')
    const before = live()
    const c = p.fork()
    expect(live()).toBe(before + 1)
    expect(m.proc(`/proc/${c.pid}/status`)).toMatch(/^Name:\tparent$/m)
    c.exit(3)
    expect(c.task.exit_state).toBe(EXIT_ZOMBIE)
    expect(c.task.mm).toBe(null)
    expect(m.syscalls.tasks.get(c.pid)).toBe(c.task)
    expect(() => m.proc(`/proc/${c.pid}/maps`)).toThrow(/ENOENT/)
    expect(c.wait()).toBe('exit:3')
    expect(m.syscalls.tasks.has(c.pid)).toBe(false)
    expect(live()).toBe(before)
    expect(() => c.mmap(0, 4096, RW, ANON)).toThrow(expect.objectContaining({ code: 'ESRCH' }))
    m.check()
  })

  it('a thread (CLONE_VM) shares the address space: the mm lives until the last user exits', () => {
    const m = new Machine({ ram: '64M', debug_vm: true })
    const p = m.spawn({ name: 'app' })
    const a = p.mmap(0, 4096, RW, ANON)
    p.store(a, [42])
    const thr = p.clone_thread(1)
    expect(thr.task.mm).toBe(p.task.mm)
    expect(p.task.mm!.mm_users).toBe(2)
    expect(thr.task.tgid).toBe(p.pid)
    expect(thr.load(a, 1)[0]).toBe(42)
    p.exit(0)
    expect(thr.task.mm!.mm_users).toBe(1)
    expect(thr.load(a, 1)[0]).toBe(42) // the mappings survive the first exit
    thr.exit(0)
    thr.wait()
    p.wait()
    m.check()
  })

  it('a fault without a handler kills the task with the signal as its status', () => {
    const m = new Machine({ ram: '64M', debug_vm: true })
    const p = m.spawn({ name: 'app' })
    expect(() => p.load(0x1000, 1)).toThrow(SignalError)
    expect(p.alive).toBe(false)
    expect(p.status).toBe('signal:SIGSEGV')
    expect(p.task.exit_code).toBe(11)
    expect(p.wait()).toBe('signal:SIGSEGV')
    m.check()
  })

  it('kernel threads have no mm, a task_struct and a kernel stack, and a pid after the processes', () => {
    const m = new Machine({ ram: '64M', debug_vm: true })
    const p = m.spawn({ name: 'app' })
    const kt = m.syscalls.kthread_create('kworker/0:1')!
    expect(kt.flags & PF_KTHREAD).toBeTruthy()
    expect(kt.mm).toBe(null)
    expect(kt.kaddr).not.toBe(0)
    expect(kt.stack).not.toBe(0)
    expect(kt.pid).toBeGreaterThan(p.pid)
    expect(m.proc(`/proc/${kt.pid}/status`)).toMatch(/^Kthread:\t1$/m)
    m.check()
  })
})
