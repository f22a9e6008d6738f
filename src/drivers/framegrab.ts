/**
 * framegrab: a simulated frame grabber (a camera card with a DMA engine),
 * the driver shape of V4L2's videobuf2-dma-contig drivers reduced to what
 * LDD3 chapter 15 teaches: one dma_alloc_coherent buffer of `nframes`
 * frame slots that the card writes by DMA and user space maps with
 * dma_mmap_coherent.
 *
 * The card addresses 32 bits (dma_set_mask_and_coherent(DMA_BIT_MASK(32)):
 * the buffer comes from ZONE_DMA32). Capturing frame n writes its
 * width*height 8-bit pixels, fg_pixel(n, i), into slot n % nframes (each
 * slot page-aligned) through the bus address: the bytes a process reads
 * through its mapping, and /dev/mem at that physical address, are the
 * frame's. A frame is captured at each vsync interrupt (Machine.raise_irq
 * of the `irq` parameter, default 10) while streaming, or on demand with
 * FG_IOC_GRAB; each completed frame wakes readers.
 *
 * /dev/framegrab0 (0600): ioctl FG_IOC_START / FG_IOC_STOP (streaming),
 * FG_IOC_QFRAME (the number of frames completed), FG_IOC_GRAB (capture
 * one now); read() of 4 bytes sleeps until a frame newer than the last
 * this file saw is done and returns its number (O_NONBLOCK: EAGAIN; other
 * sizes EINVAL); poll is POLLIN|POLLRDNORM when one is; mmap maps the
 * buffer (ENXIO past it, from dma_mmap_coherent's check).
 */
import { EAGAIN, EFAULT, EINVAL, EIO, ENOMEM, ENOTTY } from '../include/errno.js'
import type { Module } from '../include/module.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { O_NONBLOCK } from '../include/uapi/fcntl.js'
import { _IO } from '../include/uapi/ioctl.js'
import { POLLIN, POLLRDNORM } from '../include/uapi/poll.js'
import type { WaitQueueHead } from '../include/wait.js'
import { MAJOR, MKDEV, S_IFCHR, type File, type FileOperations } from '../fs/fs.js'
import type { Cdev } from '../fs/char_dev.js'
import { type DmaDevice, type DriverKernel, DMA_BIT_MASK } from './driver_api.js'
import { IRQ_HANDLED, IRQ_NONE } from './irq.js'
import type { DeviceNode, KernelModule, ModuleParamValue } from './module.js'

export const FG_IOC_MAGIC = 'F'
export const FG_IOC_START = _IO(FG_IOC_MAGIC, 1)
export const FG_IOC_STOP = _IO(FG_IOC_MAGIC, 2)
export const FG_IOC_QFRAME = _IO(FG_IOC_MAGIC, 3)
export const FG_IOC_GRAB = _IO(FG_IOC_MAGIC, 4)

/** Pixel i of frame n: a moving gradient, so every frame and position differs. */
export function fg_pixel(n: number, i: number): number {
  return (i * 31 + n * 7 + (i >> 8)) & 0xff
}

/** The driver's state, for tests and the example program. */
export interface Framegrab {
  readonly dev: DmaDevice
  readonly width: number
  readonly height: number
  readonly nframes: number
  /** Bytes per slot (a frame rounded up to pages) and of the whole buffer. */
  readonly slot: number
  readonly size: number
  cpu_addr: number
  dma_handle: number
  /** Frames completed so far; the latest is frames - 1 in slot (frames - 1) % nframes. */
  frames: number
  streaming: boolean
  readonly wait: WaitQueueHead
}

export function framegrab_module(): KernelModule & { framegrab: Framegrab | null } {
  let major = 0
  let cdev: Cdev | null = null
  let irq = 10
  const m: KernelModule & { framegrab: Framegrab | null } = {
    name: 'framegrab',
    params: { width: 'int', height: 'int', nframes: 'int', irq: 'int' },
    framegrab: null,
    init(k: DriverKernel, params: Readonly<Record<string, ModuleParamValue>>, THIS_MODULE: Module): number {
      const num = (key: string, d: number): number => (typeof params[key] === 'number' ? params[key] : d)
      const width = num('width', 64)
      const height = num('height', 48)
      const nframes = num('nframes', 4)
      irq = num('irq', 10)
      if (width <= 0 || height <= 0 || nframes <= 0 || width * height > 16 * 1024 * 1024 || nframes > 64) return -EINVAL
      const slot = Math.ceil((width * height) / PAGE_SIZE) * PAGE_SIZE
      const dev: DmaDevice = { name: 'framegrab0', dma_mask: 0, coherent_dma_mask: 0 }
      if (k.dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32))) return -EIO
      const handle = { value: 0 }
      const cpu_addr = k.dma_alloc_coherent(dev, slot * nframes, handle)
      if (!cpu_addr) return -ENOMEM
      const fg: Framegrab = { dev, width, height, nframes, slot, size: slot * nframes, cpu_addr, dma_handle: handle.value, frames: 0, streaming: false, wait: k.init_waitqueue_head() }
      /** The card: DMA the next frame into its slot, then signal completion. */
      const capture = (): void => {
        const n = fg.frames
        const px = new Uint8Array(width * height)
        for (let i = 0; i < px.length; i++) px[i] = fg_pixel(n, i)
        k.dma_write(fg.dma_handle + (n % nframes) * slot, px)
        fg.frames = n + 1
        k.wake_up_interruptible(fg.wait)
      }
      const devno = { value: 0 }
      let ret = k.alloc_chrdev_region(devno, 0, 1, 'framegrab')
      if (ret === 0) ret = k.request_irq(irq, () => (fg.streaming ? (capture(), IRQ_HANDLED) : IRQ_NONE), 0, 'framegrab', fg)
      if (ret) {
        if (devno.value) k.unregister_chrdev_region(devno.value, 1)
        k.dma_free_coherent(dev, fg.size, cpu_addr, fg.dma_handle)
        return ret
      }
      major = MAJOR(devno.value)
      const seen = (f: File): { last: number } => f.private_data as { last: number }
      const fops: FileOperations = {
        owner: THIS_MODULE,
        open: (_i, f) => ((f.private_data = { last: fg.frames }), 0),
        read: (f, buf, count) => {
          if (count !== 4) return -EINVAL
          if (fg.frames === seen(f).last) {
            if (f.f_flags & O_NONBLOCK) return -EAGAIN
            return k.wait_event_interruptible(fg.wait, () => false)
          }
          const b = new Uint8Array(4)
          new DataView(b.buffer).setUint32(0, fg.frames - 1, true)
          if (k.copy_to_user(buf, b)) return -EFAULT
          seen(f).last = fg.frames
          return 4
        },
        poll: (f, pt) => {
          k.poll_wait(f, fg.wait, pt)
          return fg.frames !== seen(f).last ? POLLIN | POLLRDNORM : 0
        },
        unlocked_ioctl: (_f, cmd) => {
          switch (cmd) {
            case FG_IOC_START: fg.streaming = true; return 0
            case FG_IOC_STOP: fg.streaming = false; return 0
            case FG_IOC_QFRAME: return fg.frames
            case FG_IOC_GRAB: capture(); return 0
            default: return -ENOTTY
          }
        },
        mmap: (_f, vma) => k.dma_mmap_coherent(dev, vma, fg.cpu_addr, fg.dma_handle, fg.size),
      }
      cdev = k.cdev_init(fops)
      ret = k.cdev_add(cdev, MKDEV(major, 0), 1)
      if (ret) {
        k.free_irq(irq, fg)
        k.unregister_chrdev_region(MKDEV(major, 0), 1)
        k.dma_free_coherent(dev, fg.size, cpu_addr, fg.dma_handle)
        return ret
      }
      m.framegrab = fg
      return 0
    },
    exit(k: DriverKernel): void {
      const fg = m.framegrab
      if (cdev) k.cdev_del(cdev)
      k.unregister_chrdev_region(MKDEV(major, 0), 1)
      if (fg) {
        k.free_irq(irq, fg)
        k.dma_free_coherent(fg.dev, fg.size, fg.cpu_addr, fg.dma_handle)
      }
      m.framegrab = null
    },
    nodes(): DeviceNode[] {
      return [{ name: 'framegrab0', dev: MKDEV(major, 0), mode: S_IFCHR | 0o600 }]
    },
  }
  return m
}
