/** Decompresses a whole small .zst file in one call (zstddec's one-shot decoder: the tests' check on the streaming path). */
import { readFileSync } from 'node:fs'
import { ZSTDDecoder } from 'zstddec'

export async function zstdDecompressFile(path: string): Promise<string> {
  const d = new ZSTDDecoder()
  await d.init()
  return new TextDecoder().decode(d.decode(new Uint8Array(readFileSync(path))))
}
