/**
 * LRU: on a miss with every frame full, evict the page referenced least
 * recently. O(1) per reference: the resident pages form a doubly linked
 * list, most recent at the head, threaded through prev/next arrays indexed
 * by page id (the id is the hash-map lookup, done once in PageIds).
 */
import { grow_i32, type Policy } from './policy.js'

const NONE = -1

export class Lru implements Policy {
  readonly name = 'lru'
  misses = 0
  private prev = new Int32Array(0)
  private next = new Int32Array(0)
  /** 1 when resident (kept in prev's spare range would save nothing: a separate array reads clearer). */
  private resident = new Int32Array(0)
  private head = NONE
  private tail = NONE
  private count = 0

  constructor(private readonly frames: number) {}

  feed(ids: Int32Array, n: number): void {
    const frames = this.frames
    let prev = this.prev, next = this.next, resident = this.resident
    let head = this.head, tail = this.tail, count = this.count, misses = this.misses
    for (let i = 0; i < n; i++) {
      const id = ids[i]
      if (id >= resident.length) {
        prev = this.prev = grow_i32(prev, id + 1)
        next = this.next = grow_i32(next, id + 1)
        resident = this.resident = grow_i32(resident, id + 1)
      }
      if (resident[id]) {
        if (id === head) continue
        // unlink, then push at the head
        const p = prev[id], q = next[id]
        next[p] = q
        if (q === NONE) tail = p
        else prev[q] = p
        prev[id] = NONE
        next[id] = head
        prev[head] = id
        head = id
        continue
      }
      misses++
      if (count === frames) {
        const v = tail
        resident[v] = 0
        tail = prev[v]
        if (tail === NONE) head = NONE
        else next[tail] = NONE
      } else {
        count++
      }
      resident[id] = 1
      prev[id] = NONE
      next[id] = head
      if (head === NONE) tail = id
      else prev[head] = id
      head = id
    }
    this.head = head
    this.tail = tail
    this.count = count
    this.misses = misses
  }

  resident_pages(): number[] {
    const out: number[] = []
    for (let id = this.tail; id !== NONE; id = this.prev[id]) out.push(id)
    return out
  }
}
