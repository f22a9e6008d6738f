/**
 * `mmsim exercise slab`: which cache serves kmalloc(size, gfp), and how
 * many objects one of its slabs holds. The kmalloc runs on a booted
 * machine; the cache is the one the returned object's slab belongs to
 * (virt_to_slab), or none when kmalloc went to the page allocator, and the
 * slab geometry is the cache's own line of /proc/slabinfo.
 */
import { Machine } from '../machine.js'
import { GFP_ATOMIC, GFP_DMA, GFP_KERNEL, GFP_KERNEL_ACCOUNT, __GFP_RECLAIMABLE, gfp_names } from '../mm/gfp.js'
import { KMALLOC_MAX_CACHE_SIZE } from '../mm/slab_h.js'
import type { Exercise, ExerciseOptions, Question, Topic } from './exercise.js'
import { ExerciseRng } from './rng.js'

const PAGE = 4096

const GFPS: readonly { gfp: number; text: string }[] = [
  { gfp: GFP_KERNEL, text: 'GFP_KERNEL' },
  { gfp: GFP_KERNEL, text: 'GFP_KERNEL' },
  { gfp: GFP_ATOMIC, text: 'GFP_ATOMIC' },
  { gfp: GFP_KERNEL_ACCOUNT, text: 'GFP_KERNEL_ACCOUNT' },
  { gfp: GFP_KERNEL | __GFP_RECLAIMABLE, text: 'GFP_KERNEL | __GFP_RECLAIMABLE' },
  { gfp: GFP_KERNEL | GFP_DMA, text: 'GFP_KERNEL | GFP_DMA' },
]

export interface KmallocResult {
  /** The serving cache's name, or null for a large kmalloc (pages from the buddy allocator). */
  cache: string | null
  objsize: number
  objects_per_slab: number
  pages_per_slab: number
  /** The large kmalloc's order. */
  order: number
  slabinfo_line: string
}

/** Runs kmalloc(size, gfp) on `m` and reads off what served it. */
export function kmalloc_answer(m: Machine, size: number, gfp: number): KmallocResult {
  const obj = m.kernel.kmalloc(size, gfp)
  if (obj === 0) throw new Error(`kmalloc(${size}) failed`)
  const slab = m.slab.virt_to_slab(obj)
  if (!slab) {
    const pfn = m.page_alloc.virt_to_pfn(obj)
    return { cache: null, objsize: 0, objects_per_slab: 0, pages_per_slab: 0, order: m.page_alloc.compound_order(pfn), slabinfo_line: '' }
  }
  const c = slab.cache
  const line = m.proc('/proc/slabinfo').split('\n').find((l) => l.split(/\s+/)[0] === c.name) ?? ''
  // slabinfo: name active_objs num_objs objsize objperslab pagesperslab ...
  const f = line.split(/\s+/)
  return { cache: c.name, objsize: Number(f[3]), objects_per_slab: Number(f[4]), pages_per_slab: Number(f[5]), order: Math.log2(Number(f[5])), slabinfo_line: line }
}

function type_reason(text: string, gfp: number): string {
  const names = gfp_names(gfp)
  return `The flags (${text}${names.replace(/\s/g, '') === text.replace(/\s/g, '') ? '' : ` = ${names}`}) pick the kmalloc type: __GFP_DMA gives the dma-kmalloc caches, __GFP_RECLAIMABLE the kmalloc-rcl ones, __GFP_ACCOUNT the kmalloc-cg ones (charged to the memory cgroup), anything else the normal kmalloc caches (kmalloc_type).`
}

/** Why the slab has the order it has (SLUB's calculate_order; SLAB's calculate_slab_order). */
function order_reason(m: Machine, r: KmallocResult): string {
  if (m.slab_kind !== 'slub') return `SLAB's calculate_slab_order took order ${r.order}: the smallest order whose left-over space is small enough beside the ${r.objects_per_slab} object${r.objects_per_slab === 1 ? '' : 's'}.`
  const fls = 32 - Math.clz32(m.cpus)
  const want = 4 * (fls + 1)
  const cap = Math.floor((PAGE << 3) / r.objsize)
  const min_objects = Math.min(want, cap)
  const min_order = Math.max(0, Math.ceil(Math.log2(Math.ceil((min_objects * r.objsize) / PAGE))))
  return `Why order ${r.order}: SLUB's calculate_order wants at least min(4 * (fls(nr_cpu_ids = ${m.cpus}) + 1) = ${want}, the ${cap} objects an order-3 slab holds) = ${min_objects} objects a slab, so it starts at get_order(${min_objects} * ${r.objsize}) = order ${min_order} and takes the first order up to slub_max_order = 3 that wastes at most 1/16 of the slab (then 1/8, 1/4): order ${r.order}.`
}

function question(m: Machine, size: number, g: { gfp: number; text: string }): Question {
  const r = kmalloc_answer(m, size, g.gfp)
  const call = `kmalloc(${size}, ${g.text})`
  if (r.cache === null) {
    return {
      text: `${call}: which slab cache serves it, and how many objects fit in one slab of that cache?`,
      answer: `no cache: ${size} bytes is above KMALLOC_MAX_CACHE_SIZE (${KMALLOC_MAX_CACHE_SIZE}), so kmalloc takes an order-${r.order} compound page block (${(PAGE << r.order) / 1024} KiB) straight from the buddy allocator`,
      reasoning: `kmalloc sends requests above KMALLOC_MAX_CACHE_SIZE = 2 pages = ${KMALLOC_MAX_CACHE_SIZE} bytes to the page allocator (__kmalloc_large_node): get_order(${size}) = ${r.order}, the smallest order with 4096 << order >= ${size}. kfree() recognises the block by its page type and frees the pages.`,
    }
  }
  return {
    text: `${call}: which slab cache serves it, and how many objects fit in one slab of that cache?`,
    answer: `${r.cache}: ${r.objects_per_slab} object${r.objects_per_slab === 1 ? '' : 's'} of ${r.objsize} bytes per slab of ${r.pages_per_slab} page${r.pages_per_slab > 1 ? 's' : ''} (order ${r.order})`,
    reasoning: `${type_reason(g.text, g.gfp)}\nThe size class is the smallest kmalloc size at or above ${size} bytes (kmalloc_index: powers of two from 8, plus 96 and 192): ${r.cache.replace(/^.*-/, '')}.\nThe cache's line of /proc/slabinfo (name, active objects, total objects, objsize, objperslab, pagesperslab, ...):\n  ${r.slabinfo_line.replace(/\s+/g, ' ').trim()}\nA slab of ${r.pages_per_slab} page${r.pages_per_slab > 1 ? 's' : ''} = ${r.pages_per_slab * PAGE} bytes holds floor(${r.pages_per_slab * PAGE} / ${r.objsize}) = ${Math.floor((r.pages_per_slab * PAGE) / r.objsize)} objects of ${r.objsize} bytes${Math.floor((r.pages_per_slab * PAGE) / r.objsize) !== r.objects_per_slab ? ` less the room the allocator keeps for its metadata: ${r.objects_per_slab}` : ''}.\n${order_reason(m, r)}`,
  }
}

export function slab_exercise(o: ExerciseOptions): Exercise {
  const rng = new ExerciseRng(o.seed)
  const m = new Machine({ ram: '64M', ...o.machine, seed: o.seed })
  const questions: Question[] = []
  for (let i = 0; i < 3; i++) {
    const big = rng.chance(1, 8)
    const size = big ? rng.int(KMALLOC_MAX_CACHE_SIZE + 1, 4 * KMALLOC_MAX_CACHE_SIZE) : rng.chance(1, 2) ? rng.int(1, 256) : rng.int(257, KMALLOC_MAX_CACHE_SIZE)
    questions.push(question(m, size, rng.pick(GFPS)))
  }
  return { topic: 'slab', seed: o.seed, questions }
}

export const slab: Topic = {
  name: 'slab',
  summary: 'which slab cache serves kmalloc(N, GFP), and its objects per slab (from the booted machine\'s caches)',
  generate: slab_exercise,
}
