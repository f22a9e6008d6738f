/**
 * The kernel log ring (Kernel: kernel/printk/printk.c). Lines carry a
 * simulated timestamp like dmesg prints them: "[    0.000000] text".
 */
export const KERN_EMERG = 0
export const KERN_ALERT = 1
export const KERN_CRIT = 2
export const KERN_ERR = 3
export const KERN_WARNING = 4
export const KERN_NOTICE = 5
export const KERN_INFO = 6
export const KERN_DEBUG = 7

export interface LogRecord {
  readonly level: number
  readonly ts_ns: number
  readonly text: string
}

export class Printk {
  readonly records: LogRecord[] = []
  /** Simulated time source; the machine installs its clock here. */
  now: () => number = () => 0

  printk(level: number, text: string): void {
    for (const line of text.split('\n')) this.records.push({ level, ts_ns: this.now(), text: line })
  }
  pr_emerg(text: string): void {
    this.printk(KERN_EMERG, text)
  }
  pr_info(text: string): void {
    this.printk(KERN_INFO, text)
  }
  pr_notice(text: string): void {
    this.printk(KERN_NOTICE, text)
  }
  pr_warn(text: string): void {
    this.printk(KERN_WARNING, text)
  }
  pr_err(text: string): void {
    this.printk(KERN_ERR, text)
  }
  pr_debug(text: string): void {
    this.printk(KERN_DEBUG, text)
  }

  /** The log as `dmesg` prints it. */
  dmesg(): string {
    let out = ''
    for (const r of this.records) {
      const s = Math.floor(r.ts_ns / 1e9)
      const us = Math.floor((r.ts_ns % 1e9) / 1e3)
      out += `[${String(s).padStart(5)}.${String(us).padStart(6, '0')}] ${r.text}\n`
    }
    return out
  }
}
