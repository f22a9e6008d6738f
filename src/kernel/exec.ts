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
 * With kernel.randomize_va_space non-zero (Linux's default is 2) the
 * stack top, mmap_base, the PIE's load bias, the tables' place on the stack
 * and (with 2) the brk move by random amounts, drawn from the machine's
 * KernelRandom in the order load_elf_binary() draws them; with 0 (`setarch
 * -R`, the norandmaps boot option) the layout is the fixed one.
 */
import { EFAULT, ENOMEM } from '../include/errno.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { flags_union } from '../include/wide.js'
import {
  VM_DONTDUMP, VM_DONTEXPAND, VM_EXEC, VM_IO, VM_MAYEXEC, VM_MAYREAD, VM_MAYWRITE, VM_PFNMAP, VM_READ, type MmStruct,
} from '../mm/mm_types.js'
import type { MmEntry } from './mm_entry.js'
import type { KernelRandom } from '../include/random.js'
import { arch_align_stack, arch_randomize_brk, arch_rnd, mmap_base, mmap_legacy_base, mmap_rnd_bits, MMAP_RND_COMPAT_BITS } from '../arch/x86/mmap.js'
import { randomize_stack_top } from '../mm/util.js'
import {
  MAP_ANONYMOUS, MAP_DENYWRITE, MAP_FIXED, MAP_GROWSDOWN, MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE,
} from '../include/uapi/mman.js'

const MiB = 1024 * 1024

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

export interface ExecOptions {
  /** kernel.randomize_va_space as the exec starts: 0 off, 1 stack/mmap/PIE/vDSO, 2 also brk. */
  readonly randomize_va_space?: number
  /** The machine's random source (needed when randomising). */
  readonly rnd?: KernelRandom
  /** RLIMIT_STACK in bytes (8 MiB). */
  readonly rlimit_stack?: number
  /** stack_guard_gap in bytes (256 pages). */
  readonly stack_guard_gap?: number
}

/** The word size of the kernel that runs `mm` (x86_64 or i386: the task size tells). */
function long_bits(mm: MmStruct): 32 | 64 {
  return mm.task_size > 2 ** 32 ? 64 : 32
}

/**
 * Kernel: arch_pick_mmap_layout() (arch/x86/mm/mmap.c): the top-down
 * layout; mmap_base below the stack's reserve, lowered by mmap_rnd_bits
 * random bits of pages when randomising. A 64-bit kernel also draws the
 * bases a 32-bit (compat) mmap would use, with mmap_rnd_compat_bits; mmsim
 * has no compat tasks, so only the draw is kept (it shapes what follows).
 */
export function arch_pick_mmap_layout(mm: MmStruct, opts: ExecOptions): void {
  const bits = long_bits(mm)
  const random = (opts.randomize_va_space ?? 0) !== 0 && opts.rnd !== undefined
  const rnd = opts.rnd
  const r = rnd ? arch_rnd(rnd, random, mmap_rnd_bits(bits), bits) : 0
  const gap = opts.rlimit_stack ?? 8 * MiB
  const guard = opts.stack_guard_gap ?? 256 * PAGE_SIZE
  mm.mmap_legacy_base = mmap_legacy_base(r, mm.task_size)
  mm.mmap_base = mmap_base(r, mm.task_size, gap, guard, random, bits === 32)
  if (rnd && bits === 64) arch_rnd(rnd, random, MMAP_RND_COMPAT_BITS, bits)
}

/**
 * ELF_ET_DYN_BASE: where a PIE executable goes. x86_64: 2/3 of the 47-bit
 * window (0x555555554aaa, page-aligned when mapped); a 32-bit kernel
 * (mmap_is_ia32() is always true there): 4 MiB, 0x400000. (0x56555000, what
 * gdb shows for 32-bit programs on older 64-bit kernels, was the compat
 * value TASK_UNMAPPED_BASE + 16 MiB before Linux 4.13.)
 */
export function elf_et_dyn_base(task_size: number): number {
  if (task_size > 2 ** 32) return Math.floor((Math.floor(task_size / 3) * 2) / PAGE_SIZE) * PAGE_SIZE
  return 0x400000
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
  // PF_RANDOMIZE, and the snapshot of randomize_va_space the brk decision uses.
  const aslr = opts.rnd !== undefined ? (opts.randomize_va_space ?? 0) : 0
  const random = aslr !== 0
  const rnd = opts.rnd
  const bits = long_bits(mm)
  // setup_new_exec(): the mmap layout.
  arch_pick_mmap_layout(mm, opts)
  // setup_arg_pages(bprm, randomize_stack_top(STACK_TOP)): the stack's top is drawn before the load bias.
  let stack_top = rnd ? randomize_stack_top(rnd, random, mm.task_size, bits) : mm.task_size
  if (rnd) stack_top = Math.ceil(arch_align_stack(rnd, random, stack_top) / PAGE_SIZE) * PAGE_SIZE

  // The executable: a PIE with an interpreter at ELF_ET_DYN_BASE (+ arch_mmap_rnd());
  // a static PIE (no interpreter) goes wherever the mmap layout puts it (load bias 0).
  let load_bias = 0
  if (image.interp) {
    load_bias = elf_et_dyn_base(mm.task_size)
    if (rnd) load_bias += arch_rnd(rnd, random, mmap_rnd_bits(bits), bits)
  }
  const exe = map_object(k, mm, { path: image.path, segments: image.segments, bss: image.bss }, load_bias)
  if (exe < 0) return { ret: exe, load_bias }
  load_bias = exe
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
  let elf_brk = load_bias + off + image.bss
  // A static PIE's brk moves out of the mmap region into the unused ELF_ET_DYN_BASE range.
  let brk_moved = false
  if (!image.interp) {
    elf_brk = elf_et_dyn_base(mm.task_size)
    brk_moved = true
  }
  mm.start_brk = mm.brk = Math.ceil(elf_brk / PAGE_SIZE) * PAGE_SIZE

  // The interpreter, then the vDSO (ARCH_SETUP_ADDITIONAL_PAGES), then the libraries: all top-down.
  if (image.interp) {
    const r = map_object(k, mm, image.interp, 0)
    if (r < 0) return { ret: r, load_bias }
  }
  const v = map_vdso(k, mm)
  if (v < 0) return { ret: v, load_bias }

  // What ld.so maps before main(), the libraries, comes later on Linux; mapped here, top-down
  // below the interpreter, before the stack VMA is (its place is fixed above mmap_base: the
  // order changes no address).
  for (const lib of image.libs) {
    const r = map_object(k, mm, lib, 0)
    if (r < 0) return { ret: r, load_bias }
  }

  // create_elf_tables(), then the brk: randomize_va_space 2 leaves a page after .bss and randomises it.
  const s = setup_arg_pages(k, mm, image, stack_top, random ? rnd : undefined)
  if (s < 0) return { ret: s, load_bias }
  if (random && aslr > 1 && rnd) {
    if (!brk_moved) mm.start_brk = mm.brk = mm.brk + PAGE_SIZE
    mm.start_brk = mm.brk = arch_randomize_brk(rnd, mm.brk, bits === 32, bits)
  }

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

/** Create (or reuse) the file of an object with its segments' bytes, then map it at `fixed_base` (0: top-down). Returns its base or -errno. */
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
  return base
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
function setup_arg_pages(k: MmEntry, mm: MmStruct, image: ProgramImage, stack_top: number, rnd: KernelRandom | undefined): number {
  const enc = new TextEncoder()
  const strs = [...image.argv, ...image.envp].map((s) => enc.encode(s + '\0'))
  const strbytes = strs.reduce((a, b) => a + b.length, 0)
  // The strings sit just below the top (minus the pointer-sized end marker).
  const ptr = mm.task_size > 2 ** 32 ? 8 : 4
  const p_end = stack_top - ptr
  const arg_start = p_end - strbytes
  // argc, argv[], NULL, envp[], NULL, auxv (about 20 pairs), aligned to 16.
  const table = (1 + image.argv.length + 1 + image.envp.length + 1 + 40) * ptr
  // create_elf_tables(): arch_align_stack() moves the tables down by up to 8 KiB when randomising.
  const p = rnd ? arch_align_stack(rnd, true, arg_start) : arg_start
  const sp = Math.floor((p - table) / 16) * 16
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
