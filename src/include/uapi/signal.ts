/**
 * Signal numbers (arch/x86/include/uapi/asm/signal.h) and the si_code values
 * of SIGSEGV and SIGBUS (include/uapi/asm-generic/siginfo.h) on x86_64.
 */

export const SIGHUP = 1
export const SIGINT = 2
export const SIGQUIT = 3
export const SIGILL = 4
export const SIGTRAP = 5
export const SIGABRT = 6
export const SIGBUS = 7
export const SIGFPE = 8
export const SIGKILL = 9
export const SIGUSR1 = 10
export const SIGSEGV = 11
export const SIGUSR2 = 12
export const SIGPIPE = 13
export const SIGALRM = 14
export const SIGTERM = 15
export const SIGSTKFLT = 16
export const SIGCHLD = 17
export const SIGCONT = 18
export const SIGSTOP = 19
export const SIGTSTP = 20
export const SIGTTIN = 21
export const SIGTTOU = 22
export const SIGURG = 23
export const SIGXCPU = 24
export const SIGXFSZ = 25
export const SIGVTALRM = 26
export const SIGPROF = 27
export const SIGWINCH = 28
export const SIGIO = 29
export const SIGPWR = 30
export const SIGSYS = 31

/** Signal names by number ('SIGSEGV' for 11). */
export const SIGNAL_NAMES: Readonly<Record<number, string>> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS',
  8: 'SIGFPE', 9: 'SIGKILL', 10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE',
  14: 'SIGALRM', 15: 'SIGTERM', 16: 'SIGSTKFLT', 17: 'SIGCHLD', 18: 'SIGCONT', 19: 'SIGSTOP',
  20: 'SIGTSTP', 21: 'SIGTTIN', 22: 'SIGTTOU', 23: 'SIGURG', 24: 'SIGXCPU', 25: 'SIGXFSZ',
  26: 'SIGVTALRM', 27: 'SIGPROF', 28: 'SIGWINCH', 29: 'SIGIO', 30: 'SIGPWR', 31: 'SIGSYS',
}

/** Signal number of a name ('SIGSEGV' -> 11); undefined when unknown. */
export function signal_number(name: string): number | undefined {
  for (const [n, s] of Object.entries(SIGNAL_NAMES)) if (s === name) return Number(n)
  return undefined
}

/* SIGSEGV si_codes */
export const SEGV_MAPERR = 1
export const SEGV_ACCERR = 2
export const SEGV_BNDERR = 3
export const SEGV_PKUERR = 4
export const SEGV_ACCADI = 5
export const SEGV_ADIDERR = 6
export const SEGV_ADIPERR = 7
export const SEGV_MTEAERR = 8
export const SEGV_MTESERR = 9
export const SEGV_CPERR = 10

/** si_code of a signal the kernel sends on its own (a #GP, the OOM killer's SIGKILL). */
export const SI_KERNEL = 0x80
/** si_code of a signal sent by kill(2). */
export const SI_USER = 0

/* SIGBUS si_codes */
export const BUS_ADRALN = 1
export const BUS_ADRERR = 2
export const BUS_OBJERR = 3
export const BUS_MCEERR_AR = 4
export const BUS_MCEERR_AO = 5

const SEGV_CODES = ['', 'SEGV_MAPERR', 'SEGV_ACCERR', 'SEGV_BNDERR', 'SEGV_PKUERR', 'SEGV_ACCADI',
  'SEGV_ADIDERR', 'SEGV_ADIPERR', 'SEGV_MTEAERR', 'SEGV_MTESERR', 'SEGV_CPERR']
const BUS_CODES = ['', 'BUS_ADRALN', 'BUS_ADRERR', 'BUS_OBJERR', 'BUS_MCEERR_AR', 'BUS_MCEERR_AO']

/** The si_code name of a fault signal ('SEGV_MAPERR'); 'SI_CODE_<n>' when unknown. */
export function si_code_name(signo: number, code: number): string {
  const t = signo === SIGSEGV ? SEGV_CODES : signo === SIGBUS ? BUS_CODES : []
  if (code === SI_KERNEL) return 'SI_KERNEL'
  return t[code] || `SI_CODE_${code}`
}

/** Inverse of si_code_name(): the number of 'SEGV_ACCERR' etc.; undefined when unknown. */
export function si_code_number(name: string): number | undefined {
  let i = SEGV_CODES.indexOf(name)
  if (i > 0) return i
  i = BUS_CODES.indexOf(name)
  return i > 0 ? i : undefined
}
