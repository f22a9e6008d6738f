/**
 * fallocate(2) (Kernel: fs/open.c vfs_fallocate(), mm/shmem.c
 * shmem_fallocate(), fs/ext4/extents.c ext4_fallocate()).
 *
 * tmpfs allocates the pages of the range in the page cache (zeroed, dirty:
 * reclaim must swap them, not drop them), taking blocks of its instance:
 * a range larger than the whole instance fails at once with ENOSPC, one that
 * runs out of blocks or memory on the way gives back the pages it allocated.
 * ext4 reserves unwritten extents: no page cache, reads see zeros, i_size
 * grows unless FALLOC_FL_KEEP_SIZE. Both punch holes (FALLOC_FL_PUNCH_HOLE
 * with FALLOC_FL_KEEP_SIZE): whole pages leave the cache (private COW copies
 * stay), the partial pages at the edges are zeroed.
 *
 * Not modelled: ext4's COLLAPSE_RANGE, INSERT_RANGE and WRITE_ZEROES answer
 * EOPNOTSUPP here (ext4 itself implements them).
 */
import { EBADF, EFBIG, EINVAL, ENODEV, ENOSPC, EOPNOTSUPP, EPERM } from '../include/errno.js'
import { PAGE_SIZE } from '../include/page_types.js'
import {
  FALLOC_FL_ALLOCATE_RANGE,
  FALLOC_FL_COLLAPSE_RANGE,
  FALLOC_FL_INSERT_RANGE,
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE,
  FALLOC_FL_UNSHARE_RANGE,
  FALLOC_FL_WRITE_ZEROES,
  FALLOC_FL_ZERO_RANGE,
} from '../include/uapi/falloc.js'
import { type AddressSpace, type MmEnv, type VmFile, FMODE_WRITE } from './mm_types.js'
import { add_to_page_cache, delete_from_page_cache, page_errno, set_page_dirty } from './shmem.js'
import { punch_hole } from './truncate.js'
import { s_maxbytes } from './file_rw.js'
import { i_size_grow } from './page_writeback.js'
import { F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_WRITE } from '../include/uapi/fcntl.js'

/** FALLOC_FL_MODE_MASK: the modes, one of which a call names. */
const FALLOC_FL_MODE_MASK =
  FALLOC_FL_ALLOCATE_RANGE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_ZERO_RANGE | FALLOC_FL_INSERT_RANGE | FALLOC_FL_UNSHARE_RANGE | FALLOC_FL_WRITE_ZEROES
/** FALLOC_FL_SUPPORTED_MASK. */
const FALLOC_FL_SUPPORTED_MASK = FALLOC_FL_MODE_MASK | FALLOC_FL_KEEP_SIZE

/**
 * Kernel: vfs_fallocate(): the checks in Linux's order (EINVAL for a
 * negative offset or a length <= 0, EOPNOTSUPP for an unknown mode or a
 * mode's forbidden KEEP_SIZE combination, EBADF without write access,
 * ENODEV for a non-regular file, EFBIG past s_maxbytes), then the
 * filesystem's fallocate. 0 or -errno.
 */
export function vfs_fallocate(env: MmEnv, file: VmFile, mode: number, offset: number, len: number, regular: boolean): number {
  if (offset < 0 || len <= 0) return -EINVAL
  if (mode & ~FALLOC_FL_SUPPORTED_MASK) return -EOPNOTSUPP
  switch (mode & FALLOC_FL_MODE_MASK) {
    case FALLOC_FL_ALLOCATE_RANGE:
    case FALLOC_FL_UNSHARE_RANGE:
    case FALLOC_FL_ZERO_RANGE:
      break
    case FALLOC_FL_PUNCH_HOLE:
      if (!(mode & FALLOC_FL_KEEP_SIZE)) return -EOPNOTSUPP
      break
    case FALLOC_FL_COLLAPSE_RANGE:
    case FALLOC_FL_INSERT_RANGE:
    case FALLOC_FL_WRITE_ZEROES:
      if (mode & FALLOC_FL_KEEP_SIZE) return -EOPNOTSUPP
      break
    default:
      return -EOPNOTSUPP
  }
  if (!(file.f_mode & FMODE_WRITE)) return -EBADF
  if (!regular) return -ENODEV
  const mapping = file.f_mapping
  if (offset + len > s_maxbytes(mapping)) return -EFBIG
  return mapping.backing === 'shmem' ? shmem_fallocate(env, mapping, mode, offset, len) : ext4_fallocate(env, mapping, mode, offset, len)
}

/** Zero [from, to) of the page-cache pages (and a disk file's blocks) it touches; dirties the cached pages. */
function zero_range(env: MmEnv, mapping: AddressSpace, from: number, to: number): void {
  for (let pos = from; pos < to; ) {
    const index = Math.floor(pos / PAGE_SIZE)
    const o = pos - index * PAGE_SIZE
    const n = Math.min(PAGE_SIZE - o, to - pos)
    const pfn = mapping.i_pages.get(index)
    if (pfn !== undefined) {
      if (env.physmem.is_backed(pfn)) env.physmem.fill(pfn, 0, o, n)
      set_page_dirty(env, pfn)
    }
    mapping.disk_blocks.get(index)?.fill(0, o, o + n)
    pos += n
  }
}

/** Hole punching: the whole pages of [offset, offset + len) go (COW copies stay), the edges are zeroed. */
function punch(env: MmEnv, mapping: AddressSpace, offset: number, len: number): void {
  const end = offset + len
  const first_whole = Math.ceil(offset / PAGE_SIZE) * PAGE_SIZE
  const last_whole = Math.floor((offset + len) / PAGE_SIZE) * PAGE_SIZE
  if (first_whole >= last_whole) {
    zero_range(env, mapping, offset, end)
    return
  }
  zero_range(env, mapping, offset, Math.min(first_whole, end))
  zero_range(env, mapping, Math.max(last_whole, offset), end)
  punch_hole(env, mapping, offset, len)
}

/** Kernel: shmem_fallocate(). */
function shmem_fallocate(env: MmEnv, mapping: AddressSpace, mode: number, offset: number, len: number): number {
  const seals = mapping.seals ?? 0
  if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) return -EOPNOTSUPP
  if (mode & FALLOC_FL_PUNCH_HOLE) {
    if (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) return -EPERM
    punch(env, mapping, offset, len)
    return 0
  }
  if (seals & F_SEAL_GROW && offset + len > mapping.i_size) return -EPERM
  const start = Math.floor(offset / PAGE_SIZE)
  const end = Math.ceil((offset + len) / PAGE_SIZE)
  const sbinfo = mapping.sbinfo
  if (sbinfo && sbinfo.max_blocks && end - start > sbinfo.max_blocks) return -ENOSPC
  const added: number[] = []
  for (let index = start; index < end; index++) {
    let pfn = mapping.i_pages.get(index)
    if (pfn === undefined) {
      pfn = add_to_page_cache(env, mapping, index)
      if (pfn < 0) {
        // shmem_undo_range(unfalloc): the pages this call allocated go again.
        for (const i of added) delete_from_page_cache(env, mapping, i)
        return page_errno(pfn)
      }
      added.push(index)
    }
    // Dirty, so that memory pressure swaps rather than frees them.
    set_page_dirty(env, pfn)
  }
  if (!(mode & FALLOC_FL_KEEP_SIZE) && offset + len > mapping.i_size) mapping.i_size = offset + len
  return 0
}

/** Kernel: ext4_fallocate() for the modes mmsim models. */
function ext4_fallocate(env: MmEnv, mapping: AddressSpace, mode: number, offset: number, len: number): number {
  const keep = (mode & FALLOC_FL_KEEP_SIZE) !== 0
  switch (mode & FALLOC_FL_MODE_MASK) {
    case FALLOC_FL_PUNCH_HOLE:
      punch(env, mapping, offset, len)
      return 0
    case FALLOC_FL_ZERO_RANGE:
      zero_range(env, mapping, offset, offset + len)
      break
    case FALLOC_FL_ALLOCATE_RANGE:
      break
    default:
      return -EOPNOTSUPP
  }
  // The range's blocks are unwritten extents: they read as zeros until written.
  if (!keep && offset + len > mapping.i_size) i_size_grow(mapping, offset + len)
  return 0
}
