/**
 * A trace file's bytes (the Node side of src/trace, which is pure), decompressed on the fly and handed out chunk by
 * chunk, so a trace never has to fit in memory. The compression is told by
 * the file's first bytes (gzip 1f 8b, zstd 28 b5 2f fd), not by its name.
 *
 * zstd: Node 20 has no decoder, so this uses zstddec's streaming build (the
 * reference libzstd compiled to WebAssembly). A zstd frame may demand a
 * window as large as the compressor chose (the shared trace: 128 MiB), and
 * the decoder must hold that window; that is the one memory cost that grows
 * with the file's settings, never with its length.
 */
import { closeSync, createReadStream, openSync, readSync } from 'node:fs'
import { createGunzip } from 'node:zlib'
import { ZSTDDecoder } from 'zstddec/stream'
import { TraceError } from '../trace/error.js'
import type { Compression, TraceInput } from '../trace/read.js'

const CHUNK = 1 << 16

/** The compression of a file, from its magic number. */
export function compression_of(path: string): Compression {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (e) {
    throw new TraceError(`${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`)
  }
  try {
    const b = new Uint8Array(4)
    const n = readSync(fd, b, 0, 4, 0)
    if (n >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip'
    if (n === 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return 'zstd'
    return 'none'
  } catch (e) {
    throw new TraceError(`${path}: ${(e as Error).message}`)
  } finally {
    closeSync(fd)
  }
}

function* file_chunks(path: string): Generator<Uint8Array> {
  const fd = openSync(path, 'r')
  try {
    for (;;) {
      const b = new Uint8Array(CHUNK)
      const n = readSync(fd, b)
      if (n === 0) return
      yield n === CHUNK ? b : b.subarray(0, n)
    }
  } finally {
    closeSync(fd)
  }
}

async function* zstd_chunks(path: string): AsyncGenerator<Uint8Array> {
  const d = new ZSTDDecoder()
  await d.init()
  try {
    // zstddec 0.3.4 does not check ZSTD_decompressStream's error codes: on
    // corrupt input it makes no progress and yields empty output forever.
    // A valid stream yields empty output only while the decoder buffers a
    // block (a few calls per 64 KiB read), so a long run of them is an error.
    let empty = 0
    for (const out of d.decodeStreaming(file_chunks(path))) {
      if (out.length) {
        empty = 0
        yield out
      } else if (++empty > 1000) {
        throw new Error('the decoder makes no progress')
      }
    }
  } catch (e) {
    if (e instanceof TraceError) throw e
    throw new TraceError(`${path}: not a valid zstd stream (${(e as Error).message})`)
  }
}

async function* gzip_chunks(path: string): AsyncGenerator<Uint8Array> {
  try {
    for await (const c of createReadStream(path, { highWaterMark: CHUNK }).pipe(createGunzip({ chunkSize: CHUNK }))) yield c as Uint8Array
  } catch (e) {
    throw new TraceError(`${path}: not a valid gzip stream (${(e as Error).message})`)
  }
}

/**
 * Plain files are read synchronously into one reused buffer (each chunk is
 * finished with before the next read): a thread-pool round trip per chunk
 * left the simulation idle for a fifth of its time.
 */
const PLAIN_CHUNK = 1 << 20

function* plain_chunks(path: string): Generator<Uint8Array> {
  const fd = openSync(path, 'r')
  try {
    const b = new Uint8Array(PLAIN_CHUNK)
    for (;;) {
      const n = readSync(fd, b, 0, PLAIN_CHUNK, null)
      if (n === 0) return
      yield b.subarray(0, n)
    }
  } finally {
    closeSync(fd)
  }
}

/** A trace file: its decompressed bytes, in chunks a consumer must finish with before asking for the next. */
export function open_trace(path: string): TraceInput {
  const compression = compression_of(path)
  const bytes = compression === 'gzip' ? gzip_chunks : compression === 'zstd' ? zstd_chunks : plain_chunks
  return { name: path, compression, bytes: () => bytes(path) }
}
