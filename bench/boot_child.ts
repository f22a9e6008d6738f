/**
 * Boots one machine in a fresh process and reports its boot time and the
 * process's resident memory, so each size is measured alone.
 */
import { Machine } from '../src/index.js'

const ram = process.argv[2] ?? '1G'
const rss0 = process.memoryUsage().rss
const t0 = performance.now()
const m = new Machine({ arch: 'x86_64', ram, seed: 1 })
const boot_ms = performance.now() - t0
const rss = process.memoryUsage().rss
process.stdout.write(JSON.stringify({ ram, boot_ms, rss_mb: rss / 1048576, rss_delta_mb: (rss - rss0) / 1048576, pages: m.page_alloc.totalram_pages() }) + '\n')
