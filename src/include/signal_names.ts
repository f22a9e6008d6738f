/** Signal and si_code numbers by name, for kernel code that reports faults by name (src/mm/memory.ts). */
export const SIGNAL_NUMBERS_BY_NAME: Readonly<Record<string, number>> = {
  SIGBUS: 7, SIGKILL: 9, SIGSEGV: 11,
}
export const SI_CODES_BY_NAME: Readonly<Record<string, number>> = {
  SEGV_MAPERR: 1, SEGV_ACCERR: 2, SEGV_BNDERR: 3, SEGV_PKUERR: 4,
  BUS_ADRALN: 1, BUS_ADRERR: 2, BUS_OBJERR: 3, BUS_MCEERR_AR: 4, BUS_MCEERR_AO: 5,
  SI_KERNEL: 0x80,
}
