/** The user ABI constants: Linux x86_64 values, and the same numbers wherever the kernel side defines them too. */
import { describe, expect, it } from 'vitest'
import * as uapi from '../../src/include/uapi/index.js'
import * as mman from '../../src/mm/mman.js'
import * as kerrno from '../../src/include/errno.js'
import { ErrnoError, SignalError, check_syscall } from '../../src/user/errors.js'
import * as api from '../../src/index.js'

describe('uapi constants', () => {
  it('agree with the kernel side wherever both define a name', () => {
    const u = uapi as unknown as Record<string, unknown>
    let n = 0
    for (const [k, v] of [...Object.entries(mman), ...Object.entries(kerrno)]) {
      if (typeof v === 'number' && k in u) {
        expect(u[k], k).toBe(v)
        n++
      }
    }
    expect(n).toBeGreaterThan(60)
  })
  it('has the x86_64 values of the mmap ABI', () => {
    expect([uapi.PROT_READ, uapi.PROT_WRITE, uapi.PROT_EXEC, uapi.PROT_GROWSDOWN]).toEqual([1, 2, 4, 0x01000000])
    expect([uapi.MAP_SHARED, uapi.MAP_PRIVATE, uapi.MAP_SHARED_VALIDATE, uapi.MAP_FIXED, uapi.MAP_ANONYMOUS]).toEqual([1, 2, 3, 0x10, 0x20])
    expect([uapi.MAP_GROWSDOWN, uapi.MAP_LOCKED, uapi.MAP_NORESERVE, uapi.MAP_POPULATE, uapi.MAP_STACK]).toEqual([0x100, 0x2000, 0x4000, 0x8000, 0x20000])
    expect([uapi.MAP_FIXED_NOREPLACE, uapi.MAP_32BIT, uapi.MAP_HUGETLB, uapi.MAP_SYNC]).toEqual([0x100000, 0x40, 0x40000, 0x80000])
    expect([uapi.MREMAP_MAYMOVE, uapi.MREMAP_FIXED, uapi.MREMAP_DONTUNMAP]).toEqual([1, 2, 4])
    expect([uapi.MADV_FREE, uapi.MADV_WIPEONFORK, uapi.MADV_PAGEOUT, uapi.MADV_GUARD_INSTALL, uapi.MADV_GUARD_REMOVE]).toEqual([8, 18, 21, 102, 103])
    expect([uapi.MS_ASYNC, uapi.MS_INVALIDATE, uapi.MS_SYNC, uapi.MCL_CURRENT, uapi.MCL_FUTURE, uapi.MCL_ONFAULT, uapi.MLOCK_ONFAULT]).toEqual([1, 2, 4, 1, 2, 4, 1])
    expect([uapi.SIGBUS, uapi.SIGSEGV, uapi.SEGV_MAPERR, uapi.SEGV_ACCERR, uapi.BUS_ADRERR]).toEqual([7, 11, 1, 2, 2])
    expect([uapi.EPERM, uapi.EAGAIN, uapi.ENOMEM, uapi.EACCES, uapi.EFAULT, uapi.EEXIST, uapi.EINVAL, uapi.EOVERFLOW, uapi.EHWPOISON]).toEqual([1, 11, 12, 13, 14, 17, 22, 75, 133])
    expect(uapi.errno_name(22)).toBe('EINVAL')
    expect(uapi.errno_name(200)).toBe('E200')
    expect(uapi.errno_number('EWOULDBLOCK')).toBe(11)
  })
  it('are exported from the package entry with the errors', () => {
    expect(api.PROT_READ).toBe(1)
    expect(api.MAP_ANONYMOUS).toBe(0x20)
    expect(api.ErrnoError).toBe(ErrnoError)
    expect(api.SignalError).toBe(SignalError)
  })
})

describe('errors', () => {
  it('ErrnoError reads like a Node fs error', () => {
    const e = new ErrnoError(12, 'mmap')
    expect(e).toBeInstanceOf(Error)
    expect([e.code, e.errno, e.syscall, e.message, e.name]).toEqual(['ENOMEM', 12, 'mmap', 'ENOMEM: not enough memory, mmap', 'ErrnoError'])
    expect(() => check_syscall(-13, 'mprotect')).toThrow('EACCES: permission denied, mprotect')
    expect(check_syscall(0x7f0000000000, 'mmap')).toBe(0x7f0000000000)
  })
  it('SignalError carries the signal, si_code and si_addr', () => {
    const e = new SignalError(7, 2, 0x1000)
    expect([e.signal, e.signo, e.code, e.si_code, e.addr]).toEqual(['SIGBUS', 7, 'BUS_ADRERR', 2, 0x1000])
    expect(e.message).toBe('SIGBUS (BUS_ADRERR) at 0x1000')
  })
})
