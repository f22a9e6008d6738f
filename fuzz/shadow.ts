/**
 * The shadow model: what every byte of the fuzzed processes' memory must
 * hold, page by page, independently of the kernel's data structures.
 *
 * A process's model maps a virtual page number to what the fuzzer knows of
 * it: its protection (or unknown) and its content. Content is one of
 *  - private: a page of this process alone (anonymous, or a file page after
 *    copy-on-write; `backing` is the file page a MADV_DONTNEED reverts to);
 *  - shared: page `idx` of a memory object (a file's page cache, or the
 *    shmem object behind MAP_SHARED|MAP_ANONYMOUS), seen by every process
 *    that maps it;
 *  - cow: a MAP_PRIVATE file page not yet written: it reads the object's
 *    page until the first store copies it.
 * A page absent from the map is unknown: never touched by the model, or
 * after an operation whose effect the model does not predict exactly
 * (a failed call that may have done part of its work, MADV_FREE...). The
 * model only ever claims what Linux guarantees; everything else is dropped.
 */
export const PAGE = 4096

export class MemObj {
  /** Pages written (absent: zero). */
  readonly pages = new Map<number, Uint8Array>()
  constructor(
    readonly name: string,
    /** Size in bytes: pages at or past it are beyond EOF (SIGBUS). */
    public size: number,
  ) {}
  read(idx: number): Uint8Array | undefined {
    return this.pages.get(idx)
  }
  page_for_write(idx: number): Uint8Array {
    let p = this.pages.get(idx)
    if (!p) this.pages.set(idx, (p = new Uint8Array(PAGE)))
    return p
  }
}

export type Content =
  | { readonly t: 'private'; readonly data: Uint8Array; readonly backing: { obj: MemObj; idx: number } | null }
  | { readonly t: 'shared'; readonly obj: MemObj; readonly idx: number }
  | { readonly t: 'cow'; readonly obj: MemObj; readonly idx: number }

export interface PageState {
  /** PROT_* bits, or null when unknown. */
  prot: number | null
  content: Content | null
  dontfork: boolean
  wipeonfork: boolean
  /** A failed madvise may have changed the fork flags: the child's page is unknown. */
  fork_unknown?: boolean
  /** The page was writable once (a populate may have made its private copy then). */
  was_writable?: boolean
}

export const ZERO_PAGE = new Uint8Array(PAGE)

/** A range too large to model page by page is forgotten instead. */
export const MAX_MODEL_PAGES = 4096

export class ProcModel {
  readonly pages = new Map<number, PageState>()
  /** The program break, as brk(0) returned it. */
  brk = 0

  /** Forget every page in [start, end) (addresses; end exclusive, any magnitude). */
  forget(start: number, end: number): void {
    const s = Math.floor(start / PAGE)
    const e = Math.ceil(end / PAGE)
    if (e - s <= this.pages.size) {
      for (let v = s; v < e; v++) this.pages.delete(v)
    } else {
      for (const v of this.pages.keys()) if (v >= s && v < e) this.pages.delete(v)
    }
  }
  /** Forget the protection of the pages in [start, end). */
  forget_prot(start: number, end: number): void {
    for (const [v, st] of this.pages) if (v * PAGE >= start && v * PAGE < end) st.prot = null
  }
  /** Entries with their vpn in [s, e) (pages), in order. */
  entries(s: number, e: number): [number, PageState][] {
    const out: [number, PageState][] = []
    if (e - s <= this.pages.size) {
      for (let v = s; v < e; v++) {
        const st = this.pages.get(v)
        if (st) out.push([v, st])
      }
    } else {
      for (const [v, st] of this.pages) if (v >= s && v < e) out.push([v, st])
      out.sort((a, b) => a[0] - b[0])
    }
    return out
  }

  /** The child's model after fork(): private pages copied, shared ones shared, DONTFORK left out. */
  fork(): ProcModel {
    const c = new ProcModel()
    c.brk = this.brk
    for (const [v, st] of this.pages) {
      if (st.dontfork || st.fork_unknown) continue
      let content = st.content
      if (content?.t === 'private') {
        content = st.wipeonfork && !content.backing
          ? { t: 'private', data: new Uint8Array(PAGE), backing: null }
          : st.wipeonfork ? null : { t: 'private', data: content.data.slice(), backing: content.backing }
      }
      c.pages.set(v, { prot: st.prot, content, dontfork: false, wipeonfork: st.wipeonfork, was_writable: st.was_writable })
    }
    return c
  }
}

/** The bytes a page reads as; undefined when unknown or beyond its object's EOF. */
export function page_bytes(c: Content): Uint8Array | undefined {
  if (c.t === 'private') return c.data
  if (c.idx * PAGE >= c.obj.size) return undefined
  const p = c.obj.read(c.idx) ?? ZERO_PAGE
  // The bytes of the EOF page past EOF read as zero (and stores there are not written back).
  const end = c.obj.size - c.idx * PAGE
  if (end >= PAGE) return p
  const q = p.slice()
  q.fill(0, end)
  return q
}
