/**
 * The text of the mm tracepoints that have no home file of their own
 * (Kernel: include/trace/events/pagemap.h mm_lru_insertion /
 * mm_lru_activate, filemap.h mm_filemap_add_to_page_cache /
 * mm_filemap_delete_from_page_cache), in 6.18's TP_printk formats.
 */
import type { MmEnv, AddressSpace } from './mm_types.js'
import { PG_active, PG_mappedtodisk, PG_swapbacked, PG_swapcache, PG_unevictable } from './page.js'
import { folio_is_file_lru } from './lruvec.js'

/** The struct page pointer as the kernel prints it (vmemmap + pfn * sizeof(struct page)). */
export function page_ptr(env: MmEnv, pfn: number): string {
  return env.arch.bits === 64 ? '0x' + (0xffffea0000000000n + BigInt(pfn) * 64n).toString(16) : '0x' + (0xf6000000 + pfn * 32).toString(16)
}

/** enum lru_list of a folio on its list: inactive/active anon 0/1, file 2/3, unevictable 4. */
function folio_lru_list(env: MmEnv, pfn: number): number {
  const pages = env.pages
  if (pages.test(pfn, PG_unevictable)) return 4
  return (folio_is_file_lru(pages, pfn) ? 2 : 0) + (pages.test(pfn, PG_active) ? 1 : 0)
}

/** mm_lru_insertion: "folio=%p pfn=0x%lx lru=%d flags=%s%s%s%s%s%s" (trace_pagemap_flags). */
export function trace_mm_lru_insertion(env: MmEnv, pfn: number): void {
  env.trace.emit('mm_lru_insertion', () => {
    const p = env.pages
    const flags = `${p._mapcount[pfn] > 0 ? 'M' : ' '}${p.mapping[pfn] < 0 ? 'a' : 'f'}${p.test(pfn, PG_swapcache) ? 's' : ' '}${p.test(pfn, PG_swapbacked) ? 'b' : ' '}${p.test(pfn, PG_mappedtodisk) ? 'd' : ' '} `
    return `folio=${page_ptr(env, pfn)} pfn=0x${pfn.toString(16)} lru=${folio_lru_list(env, pfn)} flags=${flags}`
  })
}

/** mm_lru_activate: "folio=%p pfn=0x%lx". */
export function trace_mm_lru_activate(env: MmEnv, pfn: number): void {
  env.trace.emit('mm_lru_activate', () => `folio=${page_ptr(env, pfn)} pfn=0x${pfn.toString(16)}`)
}

/** mm_filemap_add_to_page_cache / mm_filemap_delete_from_page_cache: "dev %d:%d ino %lx pfn=0x%lx ofs=%lu order=%u". */
export function trace_mm_filemap(env: MmEnv, name: 'mm_filemap_add_to_page_cache' | 'mm_filemap_delete_from_page_cache', mapping: AddressSpace, index: number, pfn: number): void {
  env.trace.emit(name, () => {
    const host = mapping.host
    const dev = host ? host.i_sb.s_dev : 0
    const ino = host ? host.i_ino : 0
    return `dev ${Math.floor(dev / 2 ** 20)}:${dev % 2 ** 20} ino ${ino.toString(16)} pfn=0x${pfn.toString(16)} ofs=${index * 4096} order=0`
  })
}
