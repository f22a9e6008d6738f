/**
 * Interrupt lines (Kernel: kernel/irq/manage.c request_irq(), free_irq();
 * kernel/irq/handle.c handle_irq_event()). A simulated device raises its
 * line with Machine.raise_irq(irq); every handler registered on it runs
 * (IRQF_SHARED lines have several), outside any process, and whatever
 * they wake runs after them. It lives beside the drivers, not in
 * src/kernel/, because drivers sit below kernel/ in mmsim's layers.
 *
 * Invariant: a line has handlers only between request_irq and free_irq;
 * a second handler needs IRQF_SHARED on both (EBUSY otherwise).
 */
import { EBUSY, EINVAL } from '../include/errno.js'

/** IRQ_HANDLED / IRQ_NONE (include/linux/irqreturn.h). */
export const IRQ_NONE = 0
export const IRQ_HANDLED = 1
/** IRQF_SHARED (include/linux/interrupt.h). */
export const IRQF_SHARED = 0x80
/** NR_IRQS of the simulated interrupt controller. */
export const NR_IRQS = 256

export type IrqHandler = (irq: number, dev_id: unknown) => number

interface IrqAction {
  readonly handler: IrqHandler
  readonly flags: number
  readonly name: string
  readonly dev_id: unknown
}

export class IrqTable {
  private readonly lines = new Map<number, IrqAction[]>()
  /** How often each line's handlers ran (kstat_irqs: /proc/interrupts' counts). */
  readonly count = new Map<number, number>()

  /** Kernel: request_irq(): 0, -EINVAL for a bad line, -EBUSY when taken and not shared. */
  request_irq(irq: number, handler: IrqHandler, flags: number, name: string, dev_id: unknown): number {
    if (!Number.isInteger(irq) || irq < 0 || irq >= NR_IRQS) return -EINVAL
    const actions = this.lines.get(irq) ?? []
    if (actions.length && !(flags & IRQF_SHARED && actions.every((a) => a.flags & IRQF_SHARED))) return -EBUSY
    actions.push({ handler, flags, name, dev_id })
    this.lines.set(irq, actions)
    return 0
  }

  /** Kernel: free_irq(). */
  free_irq(irq: number, dev_id: unknown): void {
    const actions = (this.lines.get(irq) ?? []).filter((a) => a.dev_id !== dev_id)
    if (actions.length) this.lines.set(irq, actions)
    else this.lines.delete(irq)
  }

  private readonly depth = new Map<number, number>()
  private readonly pending = new Set<number>()

  /** Kernel: disable_irq(): nests; an interrupt meanwhile is kept pending (IRQS_PENDING). */
  disable_irq(irq: number): void {
    this.depth.set(irq, (this.depth.get(irq) ?? 0) + 1)
  }
  /** Kernel: enable_irq(): the last enable replays a pending interrupt (check_irq_resend). */
  enable_irq(irq: number): void {
    const d = this.depth.get(irq) ?? 0
    if (d === 0) return // "Unbalanced enable for IRQ": Linux WARNs and ignores it
    if (d > 1) return void this.depth.set(irq, d - 1)
    this.depth.delete(irq)
    if (this.pending.delete(irq)) this.handle_irq(irq)
  }
  /** Whether the line is disabled. */
  disabled(irq: number): boolean {
    return (this.depth.get(irq) ?? 0) > 0
  }

  /** The line fires: each handler runs. Returns whether any handled it (IRQ_NONE from all: spurious). */
  handle_irq(irq: number): boolean {
    let handled = false
    const actions = this.lines.get(irq)
    if (!actions) return false
    if (this.disabled(irq)) {
      this.pending.add(irq)
      return false
    }
    this.count.set(irq, (this.count.get(irq) ?? 0) + 1)
    for (const a of [...actions]) if (a.handler(irq, a.dev_id) === IRQ_HANDLED) handled = true
    return handled
  }

  /** The names on a line (as /proc/interrupts lists them). */
  names(irq: number): string[] {
    return (this.lines.get(irq) ?? []).map((a) => a.name)
  }
}
