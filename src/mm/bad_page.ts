/**
 * The page allocator's check of a page being freed, and its report
 * (Kernel: mm/page_alloc.c page_expected_state(), page_bad_reason(),
 * free_page_is_bad(), bad_page(); mm/debug.c dump_page()).
 *
 * A page handed back to the allocator must look unused: no references, not
 * mapped, no mapping, no page type (Linux keeps page_type in the word of
 * _mapcount, so a buddy, slab or page-table page reads as "nonzero
 * mapcount"; a slab page's slab_cache sits where page->mapping is), and none
 * of the PAGE_FLAGS_CHECK_AT_FREE flags (PG_reserved among them). With
 * CONFIG_DEBUG_VM (check_pages_enabled) every page of the block is checked,
 * and when one is bad Linux prints "BUG: Bad page state", taints the kernel
 * and does not free the block: it leaks, so nothing still in use can be
 * handed out again. The reasons are tested in the kernel's order, and the
 * last one that holds is reported.
 */
import type { Printk } from '../include/printk.js'
import { UTS_RELEASE } from '../include/version.js'
import {
  PG_active, PG_locked, PG_lru, PG_mlocked, PG_private, PG_private_2, PG_reserved, PG_unevictable, PG_writeback,
  PGTY_none, PGTY_slab, type PageArray, type Pfn,
} from './page.js'

/** Kernel: PAGE_FLAGS_CHECK_AT_FREE (the flags of it this model has). */
const PAGE_FLAGS_CHECK_AT_FREE =
  (1 << PG_lru) | (1 << PG_locked) | (1 << PG_private) | (1 << PG_private_2) | (1 << PG_writeback) |
  (1 << PG_reserved) | (1 << PG_active) | (1 << PG_unevictable) | (1 << PG_mlocked)

/** Kernel: page_bad_reason(page, PAGE_FLAGS_CHECK_AT_FREE): null when the page may be freed. */
export function page_bad_reason(pages: PageArray, pfn: Pfn): string | null {
  let reason: string | null = null
  const type = pages.page_type[pfn]
  if (pages._mapcount[pfn] !== 0 || type !== PGTY_none) reason = 'nonzero mapcount'
  if (pages.mapping[pfn] > 0 || type === PGTY_slab) reason = 'non-NULL mapping'
  if (pages._refcount[pfn] !== 0) reason = 'nonzero _refcount'
  if (pages.flags[pfn] & PAGE_FLAGS_CHECK_AT_FREE) reason = 'PAGE_FLAGS_CHECK_AT_FREE flag(s) set'
  return reason
}

export interface BadPageContext {
  readonly printk: Printk
  readonly comm: string
  readonly pid: number
  readonly cpu: number
}

/** Kernel: bad_page(): the report (the "BUG:" line, dump_page(), the stack banner). */
export function bad_page(ctx: BadPageContext, pages: PageArray, pfn: Pfn, reason: string): void {
  const p = ctx.printk
  p.printk(1, `BUG: Bad page state in process ${ctx.comm}  pfn:${pfn.toString(16).padStart(5, '0')}`)
  p.printk(4, `page: refcount:${pages._refcount[pfn]} mapcount:${pages._mapcount[pfn]} mapping:${pages.mapping[pfn] > 0 ? '0000000000000001' : '0000000000000000'} index:0x${pages.index[pfn].toString(16)} pfn:0x${pfn.toString(16)}`)
  p.printk(4, `flags: 0x${pages.flags[pfn].toString(16)}`)
  p.printk(1, `page dumped because: ${reason}`)
  p.printk(4, 'Modules linked in:')
  p.printk(4, `CPU: ${ctx.cpu} UID: 0 PID: ${ctx.pid} Comm: ${ctx.comm} Tainted: G    B              ${UTS_RELEASE} #1`)
  p.printk(4, 'Call Trace:')
  p.printk(4, ' <TASK>')
  p.printk(4, ' bad_page+0xcf/0x100')
  p.printk(4, ' free_frozen_pages+0x3a5/0x6b0')
  p.printk(4, ' </TASK>')
}

/**
 * Kernel: the free_page_is_bad() loop of free_pages_prepare(): check every page of the
 * block [pfn, pfn + 2^order), report each bad one; true when the block must not be freed.
 */
export function free_pages_check_bad(ctx: BadPageContext, pages: PageArray, pfn: Pfn, order: number): boolean {
  let bad = false
  const n = 2 ** order
  for (let i = 0; i < n && pfn + i < pages.nr; i++) {
    const reason = page_bad_reason(pages, pfn + i)
    if (reason === null) continue
    bad_page(ctx, pages, pfn + i, reason)
    bad = true
  }
  return bad
}
