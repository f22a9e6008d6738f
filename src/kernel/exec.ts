/**
 * Program images and their layout in a new address space, the way Linux's
 * ELF loader and ld.so leave it (Kernel: load_elf_binary(), fs/binfmt_elf.c;
 * setup_new_exec() / setup_arg_pages(), fs/exec.c; arch_pick_mmap_layout(),
 * arch/x86/mm/mmap.c; map_vdso(), arch/x86/entry/vdso/vma.c).
 *
 * A ProgramImage describes an executable and its shared libraries as lists
 * of segments (protections and sizes). exec_image() maps them through the
 * ordinary mmap path, like the kernel (executable, interpreter) and ld.so
 * (libraries) do, so every VMA, flag and counter is the real mmap's:
 *   executable  PIE at ELF_ET_DYN_BASE (+ random offset when randomising):
 *               r--p header, r-xp text, r--p rodata, r--p relro, rw-p data,
 *               bss past the file in an anonymous rw-p mapping (vm_brk_flags);
 *   [heap]      start_brk = brk = end of bss (page aligned), or a random
 *               offset above it (arch_randomize_brk) when randomising;
 *   ld-linux    mapped top-down below mmap_base by the kernel (interpreter);
 *   [vvar] [vvar_vclock] [vdso]  top-down below the interpreter;
 *   libraries   top-down below that, as ld.so maps them;
 *   [stack]     below STACK_TOP: 128 KiB plus the argument pages, with
 *               VM_GROWSDOWN and the stack guard gap below it.
 * Randomisation is off by default (randomize_va_space = 0, as with
 * `setarch -R`); when on, one seeded PRNG draws every random offset.
 */
import { EFAULT, ENOMEM } from '../include/errno.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { flags_union } from '../include/wide.js'
import {
  VM_DONTDUMP, VM_DONTEXPAND, VM_EXEC, VM_IO, VM_MAYEXEC, VM_MAYREAD, VM_MAYWRITE, VM_PFNMAP, VM_READ, type MmStruct,
} from '../mm/mm_types.js'
import type { MmEntry } from './mm_entry.js'
import {
  MAP_ANONYMOUS, MAP_DENYWRITE, MAP_FIXED, MAP_GROWSDOWN, MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE,
} from '../include/uapi/mman.js'

const MiB = 1024 * 1024
const GiB = 1024 * MiB

export interface Segment {
  /** 'r--', 'r-x', 'rw-' ... */
  readonly prot: string
  /** Bytes of the file this segment maps (page multiple). */
  readonly size: number
  /**
   * Written while the object is relocated: PT_GNU_RELRO (mapped rw-, relocated,
   * then mprotect()ed to `prot`) and the data segment. The written pages become
   * private anonymous copies, so the VMA gets an anon_vma and stays apart from
   * its neighbours, as on a real system.
   */
  readonly relocated?: boolean
}

export interface SharedObject {
  /** Path printed in /proc/<pid>/maps. */
  readonly path: string
  /** File-backed segments, in file order; each starts where the previous ends. */
  readonly segments: readonly Segment[]
  /** Anonymous rw-p memory right after the last segment (the .bss tail). */
  readonly bss: number
}

export interface ProgramImage {
  readonly path: string
  /** The executable's segments: header, text, rodata, relro, data (sizes in bytes, page multiples). */
  readonly segments: readonly Segment[]
  /** Index in `segments` of the text segment (start_code / end_code). */
  readonly text_index: number
  /** Index of the data segment (start_data / end_data). */
  readonly data_index: number
  readonly bss: number
  /** The interpreter (ld-linux) followed by the libraries ld.so loads. */
  readonly interp: SharedObject | null
  readonly libs: readonly SharedObject[]
  /**
   * Bytes glibc's malloc takes with brk() before main() (its first sbrk:
   * the request plus M_TOP_PAD, 132 KiB for a small program); 0 for a
   * program that never calls brk (the oracle, whose malloc is a static pool).
   */
  readonly heap?: number
  readonly argv: readonly string[]
  readonly envp: readonly string[]
}

/**
 * The default image: a small PIE linked against glibc, laid out like
 * /usr/bin/sleep on Debian (x86_64, or the i386 multiarch paths on 32-bit).
 */
export function default_image(name = 'app', bits: 32 | 64 = 64): ProgramImage {
  const lib = bits === 64 ? '/usr/lib/x86_64-linux-gnu' : '/usr/lib/i386-linux-gnu'
  const ld = bits === 64 ? 'ld-linux-x86-64.so.2' : 'ld-linux.so.2'
  return {
    path: `/usr/bin/${name}`,
    segments: [
      { prot: 'r--', size: 0x2000 },
      { prot: 'r-x', size: 0x5000 },
      { prot: 'r--', size: 0x2000 },
      { prot: 'r--', size: 0x1000, relocated: true },
      { prot: 'rw-', size: 0x1000, relocated: true },
    ],
    text_index: 1,
    data_index: 4,
    bss: 0,
    interp: {
      path: `${lib}/${ld}`,
      segments: [
        { prot: 'r--', size: 0x1000 },
        { prot: 'r-x', size: 0x26000 },
        { prot: 'r--', size: 0xa000 },
        { prot: 'r--', size: 0x2000, relocated: true },
        { prot: 'rw-', size: 0x2000, relocated: true },
      ],
      bss: 0,
    },
    libs: [
      {
        path: `${lib}/libc.so.6`,
        segments: [
          { prot: 'r--', size: 0x26000 },
          { prot: 'r-x', size: 0x156000 },
          { prot: 'r--', size: 0x53000 },
          { prot: 'r--', size: 0x4000, relocated: true },
          { prot: 'rw-', size: 0x2000, relocated: true },
        ],
        bss: 0xd000,
      },
    ],
    heap: 0x21000,
    argv: [name],
    envp: ['PATH=/usr/bin:/bin', 'HOME=/root'],
  }
}

function prot_of(s: string): number {
  return (s[0] === 'r' ? PROT_READ : 0) | (s[1] === 'w' ? PROT_WRITE : 0) | (s[2] === 'x' ? PROT_EXEC : 0)
}

function total_size(o: { segments: readonly Segment[] }): number {
  return o.segments.reduce((a, s) => a + s.size, 0)
}

/** A tiny deterministic PRNG (xorshift32) for address-space randomisation. */
export class Rng {
  private s: number
  constructor(seed: number) {
    this.s = (seed >>> 0) || 0x9e3779b9
  }
  next(): number {
    let x = this.s
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    this.s = x >>> 0
    return this.s
  }
  /** A random number of `bits` bits (bits <= 32). */
  bits(bits: number): number {
    return bits >= 32 ? this.next() : this.next() % 2 ** bits
  }
}

export interface ExecOptions {
  /** randomize_va_space: 0 off (default), 2 full. */
  readonly randomize_va_space?: 0 | 1 | 2
  readonly rng?: Rng
  /** RLIMIT_STACK in bytes (8 MiB). */
  readonly rlimit_stack?: number
  /** stack_guard_gap in bytes (256 pages). */
  readonly stack_guard_gap?: number
}

/**
 * Kernel: arch_pick_mmap_layout() (arch/x86/mm/mmap.c): top-down layout,
 * mmap_base = PAGE_ALIGN(TASK_SIZE - gap - rnd) with the gap being the stack
 * rlimit plus the guard gap (and the stack's random pad), clamped to
 * [128 MiB, 5/6 of the address space].
 */
export function arch_pick_mmap_layout(mm: MmStruct, opts: ExecOptions): void {
  const task_size = mm.task_size
  const random = (opts.randomize_va_space ?? 0) !== 0 && opts.rng
  const is64 = task_size > 2 ** 32
  let rnd = 0
  if (random && opts.rng) rnd = opts.rng.bits(is64 ? 28 : 8) * PAGE_SIZE
  let gap = opts.rlimit_stack ?? 8 * MiB
  let pad = opts.stack_guard_gap ?? 256 * PAGE_SIZE
  if (random) pad += (is64 ? 0x3fffff : 0x7ff) * PAGE_SIZE // stack_maxrandom_size(): __STACK_RND_MASK << PAGE_SHIFT
  if (gap + pad > gap) gap += pad
  const gap_min = 128 * MiB
  const gap_max = Math.floor(task_size / 6) * 5
  if (gap < gap_min) gap = gap_min
  else if (gap > gap_max) gap = gap_max
  mm.mmap_base = Math.ceil((task_size - gap - rnd) / PAGE_SIZE) * PAGE_SIZE
  mm.mmap_legacy_base = Math.ceil(task_size / 3 / PAGE_SIZE) * PAGE_SIZE + rnd
}

/** ELF_ET_DYN_BASE: where a PIE executable goes (2/3 of the address space on x86_64). */
export function elf_et_dyn_base(task_size: number): number {
  if (task_size > 2 ** 32) return Math.floor((Math.floor(task_size / 3) * 2) / PAGE_SIZE) * PAGE_SIZE
  return 0x56555000
}

export interface ExecResult {
  /** 0 or -errno. */
  readonly ret: number
  readonly load_bias: number
}

/**
 * Lay out `image` in the empty address space `mm` (Kernel: load_elf_binary()
 * plus what ld.so does before main()). Returns -errno when a mapping fails.
 */
export function exec_image(k: MmEntry, mm: MmStruct, image: ProgramImage, opts: ExecOptions = {}): ExecResult {
  const random = (opts.randomize_va_space ?? 0) !== 0 && opts.rng !== undefined
  arch_pick_mmap_layout(mm, opts)

  // The executable: PIE at ELF_ET_DYN_BASE (+ arch_mmap_rnd()).
  let load_bias = elf_et_dyn_base(mm.task_size)
  if (random && opts.rng) load_bias += opts.rng.bits(mm.task_size > 2 ** 32 ? 28 : 8) * PAGE_SIZE
  const exe = map_object(k, mm, { path: image.path, segments: image.segments, bss: image.bss }, load_bias)
  if (exe < 0) return { ret: exe, load_bias }
  let off = 0
  const starts: number[] = []
  for (const s of image.segments) {
    starts.push(load_bias + off)
    off += s.size
  }
  mm.start_code = starts[image.text_index]
  mm.end_code = mm.start_code + image.segments[image.text_index].size
  mm.start_data = starts[image.data_index]
  mm.end_data = mm.start_data + image.segments[image.data_index].size
  const elf_brk = load_bias + off + image.bss
  mm.start_brk = mm.brk = Math.ceil(elf_brk / PAGE_SIZE) * PAGE_SIZE
  if (random && opts.rng) {
    // arch_randomize_brk(): a random page in [brk, brk + 32 MiB) (1 GiB on 64-bit with randomize 2).
    const range = mm.task_size > 2 ** 32 ? GiB : 32 * MiB
    mm.start_brk = mm.brk = mm.brk + (opts.rng.next() % (range / PAGE_SIZE)) * PAGE_SIZE
  }

  // The interpreter, then the vDSO, then the libraries: all top-down.
  if (image.interp) {
    const r = map_object(k, mm, image.interp, 0)
    if (r < 0) return { ret: r, load_bias }
  }
  const v = map_vdso(k, mm)
  if (v < 0) return { ret: v, load_bias }
  for (const lib of image.libs) {
    const r = map_object(k, mm, lib, 0)
    if (r < 0) return { ret: r, load_bias }
  }

  const s = setup_arg_pages(k, mm, image, opts)
  if (s < 0) return { ret: s, load_bias }

  // malloc's first brk() and the chunk header it writes at the start of [heap].
  if (image.heap) {
    const want = mm.brk + image.heap
    if (k.sys_brk(mm, want) !== want) return { ret: -ENOMEM, load_bias }
    if (k.copy_to_user(mm, mm.start_brk, new Uint8Array(16).fill(0)) !== 0) return { ret: -EFAULT, load_bias }
  }
  return { ret: 0, load_bias }
}

/**
 * An object file's bytes: deterministic content so that loads of text show
 * something other than zeros, byte i = (i * 7 + 0x90) & 0xff. The pattern
 * repeats every 256 bytes, so every page of every object holds the same
 * bytes: this one page, which the page cache of each object file shares
 * (kernel_write_shared_pages: no copy per page, host memory only for pages
 * written later). Never modified.
 */
const OBJECT_PAGE = new Uint8Array(PAGE_SIZE).map((_, i) => (i * 7 + 0x90) & 0xff)

/** Create (or reuse) the file of an object with its segments' bytes, then map it. Returns 0 or -errno. */
function map_object(k: MmEntry, mm: MmStruct, obj: SharedObject, fixed_base: number): number {
  const O_RDWR = 2
  const O_CREAT = 0o100
  const file = k.filp_open(obj.path, O_RDWR | O_CREAT, 0o755, null)
  if (typeof file === 'number') return file
  const total = total_size(obj)
  if (file.f_mapping.i_size < total) {
    const full = Math.floor(total / PAGE_SIZE)
    const w = k.kernel_write_shared_pages(file, 0, full, OBJECT_PAGE)
    if (w < 0) return w
    // Segments are page multiples; a tail (which mmap would refuse anyway) is written as bytes.
    const tail = total - full * PAGE_SIZE
    if (tail > 0) {
      const t = k.kernel_write(file, full * PAGE_SIZE, OBJECT_PAGE.subarray(0, tail))
      if (t < 0) return t
    }
  }
  let base = fixed_base
  if (!base) {
    // Reserve the whole object top-down, as ld.so (and the kernel for the interpreter) does.
    const r = k.ksys_mmap_pgoff(mm, 0, total + obj.bss, PROT_READ, MAP_PRIVATE | MAP_DENYWRITE, file, 0)
    if (r < 0 && r >= -4095) return r
    base = r
  }
  let off = 0
  for (const s of obj.segments) {
    const prot = prot_of(s.prot)
    const map_prot = s.relocated ? prot | PROT_WRITE : prot
    const r = k.ksys_mmap_pgoff(mm, base + off, s.size, map_prot, MAP_PRIVATE | MAP_FIXED | MAP_DENYWRITE, file, off)
    if (r < 0 && r >= -4095) return r
    if (s.relocated) {
      // Relocation writes each page (here: its own bytes back), then RELRO becomes read-only.
      for (let a = base + off; a < base + off + s.size; a += 4096) {
        const b = new Uint8Array(8)
        if (k.copy_from_user(mm, b, a) !== 0 || k.copy_to_user(mm, a, b) !== 0) return -EFAULT
      }
      if (map_prot !== prot) {
        const e = k.do_mprotect_pkey(mm, base + off, s.size, prot)
        if (e < 0) return e
      }
    }
    off += s.size
  }
  if (obj.bss) {
    const r = k.ksys_mmap_pgoff(mm, base + off, obj.bss, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, null, 0)
    if (r < 0 && r >= -4095) return r
  }
  return 0
}

/** Kernel: map_vdso(): [vvar] (4 pages), [vvar_vclock] (2 pages), [vdso] (2 pages), top-down. */
function map_vdso(k: MmEntry, mm: MmStruct): number {
  const VVAR = 4 * PAGE_SIZE
  const VCLOCK = 2 * PAGE_SIZE
  const VDSO = 2 * PAGE_SIZE
  // get_unmapped_area() for the whole image, like the kernel does.
  const r = k.ksys_mmap_pgoff(mm, 0, VVAR + VCLOCK + VDSO, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, null, 0)
  if (r < 0 && r >= -4095) return r
  const u = k.do_munmap(mm, r, VVAR + VCLOCK + VDSO)
  if (u < 0) return u
  // [vvar]: VM_READ | VM_MAYREAD | VM_IO | VM_DONTDUMP | VM_PFNMAP; [vdso]: r-x, may-write (for ptrace), as 6.18 sets them.
  const vvar_flags = flags_union(VM_READ, VM_MAYREAD, VM_IO, VM_DONTDUMP, VM_PFNMAP, VM_DONTEXPAND)
  let e = k._install_special_mapping(mm, r, VVAR, vvar_flags, '[vvar]')
  if (e < 0) return e
  e = k._install_special_mapping(mm, r + VVAR, VCLOCK, vvar_flags, '[vvar_vclock]')
  if (e < 0) return e
  e = k._install_special_mapping(mm, r + VVAR + VCLOCK, VDSO,
    flags_union(VM_READ, VM_EXEC, VM_MAYREAD, VM_MAYWRITE, VM_MAYEXEC, VM_DONTEXPAND), '[vdso]')
  return e < 0 ? e : 0
}

/**
 * Kernel: setup_arg_pages() and create_elf_tables(): the [stack] VMA below
 * STACK_TOP (128 KiB of stack_expand plus the pages of argv/envp), and the
 * argument and environment strings at its top.
 */
function setup_arg_pages(k: MmEntry, mm: MmStruct, image: ProgramImage, opts: ExecOptions): number {
  const enc = new TextEncoder()
  const strs = [...image.argv, ...image.envp].map((s) => enc.encode(s + '\0'))
  const strbytes = strs.reduce((a, b) => a + b.length, 0)
  let stack_top = mm.task_size
  if ((opts.randomize_va_space ?? 0) !== 0 && opts.rng) {
    // randomize_stack_top(): up to 16 GiB (22 bits of pages) on 64-bit.
    stack_top -= opts.rng.bits(mm.task_size > 2 ** 32 ? 22 : 11) * PAGE_SIZE
  }
  // The strings sit just below the top (minus the pointer-sized end marker).
  const ptr = mm.task_size > 2 ** 32 ? 8 : 4
  const p_end = stack_top - ptr
  const arg_start = p_end - strbytes
  // argc, argv[], NULL, envp[], NULL, auxv (about 20 pairs), aligned to 16.
  const table = (1 + image.argv.length + 1 + image.envp.length + 1 + 40) * ptr
  const sp = Math.floor((arg_start - table) / 16) * 16
  const used = Math.ceil((stack_top - sp) / PAGE_SIZE) * PAGE_SIZE
  const size = used + 128 * 1024
  const r = k.ksys_mmap_pgoff(mm, stack_top - size, size, PROT_READ | PROT_WRITE,
    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, null, 0)
  if (r < 0 && r >= -4095) return r
  const blob = new Uint8Array(strbytes)
  let o = 0
  for (const s of strs) {
    blob.set(s, o)
    o += s.length
  }
  if (k.copy_to_user(mm, arg_start, blob) !== 0) return -EFAULT
  mm.arg_start = arg_start
  mm.arg_end = arg_start + strs.slice(0, image.argv.length).reduce((a, b) => a + b.length, 0)
  mm.env_start = mm.arg_end
  mm.env_end = arg_start + strbytes
  mm.start_stack = sp
  const words = new Uint8Array(ptr)
  words[0] = image.argv.length
  if (k.copy_to_user(mm, sp, words) !== 0) return -EFAULT
  return 0
}
