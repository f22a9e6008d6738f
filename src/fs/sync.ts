/**
 * Writing files and filesystems back on request (Kernel: fs/sync.c):
 * fsync(2) and fdatasync(2) through the file's f_op->fsync
 * (vfs_fsync_range()), syncfs(2) (sync_filesystem() of the file's super
 * block) and sync(2) (ksys_sync(): wake every flusher, then sync each
 * filesystem). The disk side of each is the filesystem's
 * (src/mm/fs_writeback.ts ext4_sync_file(), sync_filesystem()); tmpfs
 * and the other in-memory filesystems have nothing to write.
 */
import { EINVAL } from '../include/errno.js'
import { sync_filesystem as ext4_sync_filesystem, wakeup_flusher_threads } from '../mm/fs_writeback.js'
import type { MmEnv } from '../mm/mm_types.js'
import type { File, SuperBlock } from './fs.js'

/** LLONG_MAX: vfs_fsync()'s whole-file range. */
const LLONG_MAX = Number.MAX_SAFE_INTEGER

/** Kernel: vfs_fsync_range(): 0, or -EINVAL for a file without fsync. */
export function vfs_fsync_range(file: File, start: number, end: number, datasync: boolean): number {
  if (!file.f_op.fsync) return -EINVAL
  return file.f_op.fsync(file, start, end, datasync)
}

/** Kernel: vfs_fsync(): the whole file. */
export function vfs_fsync(file: File, datasync = false): number {
  return vfs_fsync_range(file, 0, LLONG_MAX, datasync)
}

/** Kernel: sync_filesystem(): a disk filesystem's dirty inodes, its metadata and a cache flush; nothing for an in-memory one. 0. */
export function sync_filesystem(env: MmEnv, sb: SuperBlock, for_sync_all = false): number {
  if (sb.s_bdi.wb) ext4_sync_filesystem(env, sb.s_bdi, for_sync_all)
  return 0
}

/**
 * Kernel: ksys_sync(): wake the flushers of every disk
 * (wakeup_flusher_threads(WB_REASON_SYNC)), then write and wait for each
 * filesystem's inodes, sync_fs and block device, as sync_filesystem() does
 * for one. `supers`: every mounted super block.
 */
export function ksys_sync(env: MmEnv, supers: readonly SuperBlock[]): void {
  const seen = new Set<SuperBlock>()
  for (const sb of supers) if (sb.s_bdi.wb) wakeup_flusher_threads(env, sb.s_bdi)
  for (const sb of supers) {
    if (seen.has(sb)) continue
    seen.add(sb)
    sync_filesystem(env, sb, true)
  }
}
