/**
 * A trace as batches of dense page ids: its bytes (decompressed by the
 * caller: src/cli/trace_source.ts for files), parsed (parse.ts), interned
 * (intern.ts). Memory: one chunk, one batch and the page-id table, whatever
 * the trace's length.
 */
import { TraceError } from './error.js'
import { PageIds } from './intern.js'
import { BATCH, TraceParser, type TraceFormat } from './parse.js'

export type Compression = 'none' | 'gzip' | 'zstd'

/** A trace to read: its name for messages, and its bytes (each call starts them afresh). */
export interface TraceInput {
  name: string
  compression: Compression
  bytes(): AsyncIterable<Uint8Array> | Iterable<Uint8Array>
}

/** Receives page ids in batches; writes[i] = 1 where reference i is a store (see PageSink). */
export type IdSink = (ids: Int32Array, n: number, writes: Uint8Array) => void

export interface TraceShape {
  format: TraceFormat | 'empty'
  compression: Compression
  refs: number
  /** Distinct pages = cold misses of any policy. */
  distinct: number
}

/**
 * Receives page numbers in batches (the parser's arrays, reused: see
 * PageSink), and with `want_next` an oracleGeneral trace's next-access
 * fields (null for the other formats).
 */
export type PageNumberSink = (pages: Float64Array, n: number, writes: Uint8Array, next: Float64Array | null) => void

/** Thrown by a sink to stop reading a trace early; read_pages() rethrows it as it is. */
export class StopReading extends Error {}

/**
 * Reads a trace, handing its references to `sink` as page numbers; `table`
 * must intern every page the sink sees (the sink does it: an online policy's
 * feed_pages()) so the shape's `distinct` is its size.
 */
export async function read_pages(input: TraceInput, table: PageIds, sink: PageNumberSink, progress?: (refs: number) => void, want_next = false): Promise<TraceShape> {
  const { name, compression } = input
  let refs = 0
  const parser = new TraceParser(
    name,
    (p, n, writes, next) => {
      refs += n
      sink(p, n, writes, next)
      progress?.(refs)
    },
    want_next,
  )
  try {
    for await (const chunk of input.bytes()) parser.push(chunk)
  } catch (e) {
    if (e instanceof TraceError || e instanceof StopReading) throw e
    throw new TraceError(`${name}: ${(e as Error).message}`)
  }
  parser.end()
  return { format: parser.format ?? 'empty', compression, refs, distinct: table.size }
}

/** Reads a trace, handing its references to `sink` as page ids; `progress` hears the count of references so far. */
export async function read_ids(input: TraceInput, sink: IdSink, progress?: (refs: number) => void): Promise<TraceShape> {
  const table = new PageIds()
  const ids = new Int32Array(BATCH)
  return await read_pages(
    input,
    table,
    (p, n, writes) => {
      table.ids(p, n, ids)
      sink(ids, n, writes)
    },
    progress,
  )
}
