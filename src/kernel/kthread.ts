/**
 * Kernel threads (Kernel: kernel/kthread.c kthread_create()). A kernel
 * thread has no address space of its own (mm NULL): when scheduled it
 * borrows the previous one lazily (sched.ts). It is created sleeping.
 */
import { copy_rlimits } from '../include/resource.js'
import { dup_task_struct, type TaskEnv } from './fork.js'
import { PF_KTHREAD, TaskStruct } from './task.js'

/** Kernel: kthread_create(): the new kernel thread, or null when its task_struct or stack cannot be allocated. */
export function kthread_create(env: TaskEnv, name: string): TaskStruct | null {
  const t = new TaskStruct(0, name, null, 0, copy_rlimits(env.init_rlim))
  t.flags |= PF_KTHREAD
  if (!dup_task_struct(env, t)) return null
  t.pid = t.tgid = env.pids.alloc_pid()
  env.pids.attach_pid(t)
  return t
}
