/**
 * What OPT needs and a stream lacks, each reference's next use, kept on
 * disk (the Node side of simulate.ts's NextUseStore). The page
 * ids are spooled to a temporary file (4 bytes a reference) on the first
 * pass; a backward pass over it in blocks writes each reference's next-use
 * position (8 bytes a reference, Infinity for never) to a second file; the
 * forward pass reads both. RAM: two blocks and one Float64 per distinct
 * page; disk: 12 bytes per reference, removed by close().
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BATCH } from '../trace/parse.js'
import type { NextUseStore } from '../trace/simulate.js'

export class NextUseSpool implements NextUseStore {
  private readonly dir = mkdtempSync(join(tmpdir(), 'mmsim-trace-'))
  private readonly ids_fd = openSync(join(this.dir, 'ids'), 'w+')
  private readonly next_fd = openSync(join(this.dir, 'next'), 'w+')
  n = 0

  /** Appends references (first pass). */
  write(ids: Int32Array, n: number): void {
    writeSync(this.ids_fd, new Uint8Array(ids.buffer, ids.byteOffset, n * 4))
    this.n += n
  }

  private read_ids(block: number, ids: Int32Array): number {
    const len = Math.min(BATCH, this.n - block * BATCH)
    readSync(this.ids_fd, new Uint8Array(ids.buffer, 0, len * 4), 0, len * 4, block * BATCH * 4)
    return len
  }

  /** The backward pass; `distinct` is the number of page ids. */
  next_uses(distinct: number): void {
    const last = new Float64Array(distinct).fill(Infinity)
    const ids = new Int32Array(BATCH)
    const next = new Float64Array(BATCH)
    for (let block = Math.ceil(this.n / BATCH) - 1; block >= 0; block--) {
      const len = this.read_ids(block, ids)
      const base = block * BATCH
      for (let j = len - 1; j >= 0; j--) {
        const id = ids[j]
        next[j] = last[id]
        last[id] = base + j
      }
      writeSync(this.next_fd, new Uint8Array(next.buffer, 0, len * 8), 0, len * 8, base * 8)
    }
  }

  /** The forward pass: each batch of ids with their next uses (arrays reused between batches). */
  *batches(): Generator<{ ids: Int32Array; next: Float64Array; n: number; base: number }> {
    const ids = new Int32Array(BATCH)
    const next = new Float64Array(BATCH)
    for (let block = 0; block * BATCH < this.n; block++) {
      const len = this.read_ids(block, ids)
      readSync(this.next_fd, new Uint8Array(next.buffer, 0, len * 8), 0, len * 8, block * BATCH * 8)
      yield { ids, next, n: len, base: block * BATCH }
    }
  }

  close(): void {
    closeSync(this.ids_fd)
    closeSync(this.next_fd)
    rmSync(this.dir, { recursive: true, force: true })
  }
}
