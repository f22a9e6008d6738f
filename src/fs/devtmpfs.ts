/**
 * devtmpfs, the filesystem mounted at /dev (Kernel: drivers/base/devtmpfs.c,
 * fs/namei.c vfs_mknod(), fs/inode.c init_special_inode()).
 *
 * Device nodes are inodes with S_IFCHR and i_rdev (made by vfs_mknod,
 * namei.ts, here or on any filesystem); opening one runs def_chr_fops.open
 * = chrdev_open (char_dev.ts), which finds the driver.
 * A node has no page cache of its own to speak of: its i_mapping exists
 * (every inode has one) and stays empty. Regular files created under /dev
 * are tmpfs files (devtmpfs is a tmpfs instance).
 *
 * Numbers copy the reference machine: devtmpfs is 00:06 there, and the
 * nodes the memory devices create at boot get inodes 3 (null), 4 (zero),
 * 5 (full); the first inode numbers go to what its boot created before
 * (the root directory and a node not modelled here).
 */
import type { MmEnv } from '../mm/mm_types.js'
import { address_space_create } from '../mm/shmem.js'
import { Inode, MKDEV, SuperBlock } from './fs.js'
import { generic_file_operations } from './read_write.js'

/** The first inode number a node made here gets. */
const DEVTMPFS_FIRST_INO = 3
/** MAX_LFS_FILESIZE. */
const MAX_LFS_FILESIZE = 2 ** 63 - 1

/** devtmpfs's super_block (vfs_mknod() makes the character nodes special: namei.ts). */
export function devtmpfs_super(env: MmEnv): SuperBlock {
  let ino = DEVTMPFS_FIRST_INO
  const reg_fops = generic_file_operations(env)
  const type = {
    name: 'devtmpfs',
    create(sb: SuperBlock, mode: number): Inode {
      const mapping = address_space_create(env, 'shmem')
      const inode = new Inode(sb, sb.next_ino(), mode, reg_fops, mapping)
      mapping.host = inode
      return inode
    },
  }
  return new SuperBlock(type, MKDEV(0, 6), MAX_LFS_FILESIZE, () => ino++)
}
