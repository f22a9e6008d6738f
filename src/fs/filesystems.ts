/**
 * The filesystems of a simulated machine (Kernel: fs/ext4, mm/shmem.c's
 * tmpfs): an ext4-like disk filesystem whose dirty pages writeback cleans
 * (fsync, msync), and tmpfs, whose pages live only in memory. Both keep a
 * regular file's data in its inode's page cache (src/mm/shmem.ts, file_rw.ts)
 * and share the regular-file operations of read_write.ts.
 *
 * Devices and inode numbers copy the reference machine: its root ext4 on
 * fe:00 (/dev/vda), its /dev/shm tmpfs on 00:19. Inode numbers are handed
 * out in creation order from 2, across both (get_next_ino()).
 */
import { PAGE_SIZE } from '../include/page_types.js'
import type { MmEnv, ShmemSbInfo } from '../mm/mm_types.js'
import { address_space_create, shmem_reserve_inode, shmem_sb_info } from '../mm/shmem.js'
import { ENOSPC } from '../include/errno.js'
import { bdi_create } from '../mm/backing_dev.js'
import { bdi_register } from '../mm/fs_writeback.js'
import { BlockDevice } from '../hw/blkdev.js'
import { COST_NS } from '../hw/clock.js'
import { Inode, MKDEV, SuperBlock, type FileSystemType } from './fs.js'
import { generic_file_operations } from './read_write.js'

/** ext4 with 4 KiB blocks: (2^32 - 1) blocks. */
const EXT4_MAXBYTES = (2 ** 32 - 1) * PAGE_SIZE
/** MAX_LFS_FILESIZE (tmpfs). */
const MAX_LFS_FILESIZE = 2 ** 63 - 1

/** A filesystem whose regular files keep their data in a page cache of kind `backing` (a tmpfs instance: with its limits). */
function page_cache_fs(env: MmEnv, name: string, backing: 'shmem' | 'disk', sbinfo: ShmemSbInfo | null = null): FileSystemType {
  const fops = generic_file_operations(env)
  return {
    name,
    sbinfo,
    create(sb, mode) {
      // shmem_get_inode(): ENOSPC when the instance's inodes are all taken.
      if (sbinfo && !shmem_reserve_inode(sbinfo)) return -ENOSPC
      const mapping = address_space_create(env, backing, sbinfo)
      const inode = new Inode(sb, sb.next_ino(), mode, fops, mapping)
      mapping.host = inode
      return inode
    },
  }
}

/** What the root filesystem's disk is: a virtio disk (NVMe-like timing) or a zram device. */
export type RootDisk = 'virtio' | 'zram'

/** max_sectors_kb of the reference machine's virtio disk: io_pages 1024. */
const VDA_MAX_SECTORS_KB = 4096
/** max_segments of the reference machine's virtio disk (its seg_max). */
const VDA_MAX_SEGMENTS = 254

/**
 * The root ext4 (on a disk whose queue has `read_ahead_kb`) and the tmpfs of
 * one machine. The disk is a virtio one, or `root_disk` 'zram': the same
 * disk served at zram's speed (the reclaim oracle keeps its files on ext4
 * on a zram device), so a page read takes microseconds.
 */
export function machine_filesystems(env: MmEnv, read_ahead_kb: number, root_disk: RootDisk = 'virtio'): { ext4: SuperBlock; tmpfs: SuperBlock; shm_mnt: SuperBlock } {
  let ino = 2
  const next = (): number => ino++
  // virtio-blk's disk, 254:0 (fe:00): a request costs the clock's one-page read or write plus a transfer per further page
  const disk =
    root_disk === 'zram'
      ? new BlockDevice('vda', 0xfe, 0, COST_NS.zram_page, COST_NS.zram_page, COST_NS.zram_page)
      : new BlockDevice('vda', 0xfe, 0, COST_NS.disk_read_page, COST_NS.disk_write_page, COST_NS.disk_transfer_page)
  const vda = bdi_create(read_ahead_kb, VDA_MAX_SECTORS_KB, disk, VDA_MAX_SEGMENTS)
  bdi_register(env, vda, true)
  return {
    ext4: new SuperBlock(page_cache_fs(env, 'ext4', 'disk'), MKDEV(0xfe, 0), EXT4_MAXBYTES, next, vda),
    // mounted without size=: half of RAM (shmem_default_max_blocks())
    tmpfs: new SuperBlock(page_cache_fs(env, 'tmpfs', 'shmem', shmem_sb_info(env)), MKDEV(0, 0x19), MAX_LFS_FILESIZE, next),
    // shm_mnt: the kernel's internal tmpfs (memfd_create, SysV shm), 00:01, mounted without limits
    shm_mnt: new SuperBlock(page_cache_fs(env, 'tmpfs', 'shmem'), MKDEV(0, 1), MAX_LFS_FILESIZE, next),
  }
}
