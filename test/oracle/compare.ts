/**
 * Field-by-field comparison of an oracle result (the real kernel's) with the
 * simulator's, in the order ../shared/oracle/README.md gives: per-op results
 * (ret, fault_at, n, why, child recursively), then per dump maps, resident,
 * the smaps numbers and heap. `kernel` is ignored (it names who answered);
 * VmFlags are compared as sets of codes.
 */

export interface Agreement {
  /** Fields compared and fields equal. */
  total: number
  equal: number
  /** The first mismatches, as "path: expected X, got Y". */
  diffs: string[]
}

type J = unknown

function show(v: J): string {
  const s = JSON.stringify(v)
  return s === undefined ? 'undefined' : s.length > 120 ? s.slice(0, 117) + '...' : s
}

function flagset(s: unknown): string {
  return typeof s === 'string' ? s.split(' ').filter(Boolean).sort().join(' ') : String(s)
}

export function compare_results(expected: J, got: J): Agreement {
  const a: Agreement = { total: 0, equal: 0, diffs: [] }
  const leaf = (path: string, e: J, g: J, eq = (x: J, y: J) => x === y): void => {
    a.total++
    if (eq(e, g)) a.equal++
    else if (a.diffs.length < 20) a.diffs.push(`${path}: expected ${show(e)}, got ${show(g)}`)
  }
  const obj = (v: J): Record<string, J> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, J>) : {})
  const arr = (v: J): J[] => (Array.isArray(v) ? v : [])

  const results = (path: string, e: J[], g: J[]): void => {
    leaf(`${path}.length`, e.length, g.length)
    e.forEach((er, i) => {
      const eo = obj(er)
      const go = obj(g[i])
      const p = `${path}[${i}](${String(eo.op)})`
      for (const k of Object.keys(eo)) {
        if (k === 'child') {
          if (eo.child === null || go.child === null || go.child === undefined) leaf(`${p}.child`, eo.child, go.child)
          else process_obj(`${p}.child`, eo.child, go.child)
        } else {
          leaf(`${p}.${k}`, eo[k], go[k])
        }
      }
      for (const k of Object.keys(go)) if (!(k in eo)) leaf(`${p}.${k}`, undefined, go[k])
    })
  }
  const dumps = (path: string, e: J[], g: J[]): void => {
    leaf(`${path}.length`, e.length, g.length)
    e.forEach((ed, i) => {
      const eo = obj(ed)
      const go = obj(g[i])
      const p = `${path}[${i}](at ${String(eo.at)})`
      leaf(`${p}.at`, eo.at, go.at)
      const em = arr(eo.maps)
      const gm = arr(go.maps)
      leaf(`${p}.maps`, em.join(' | '), gm.join(' | '))
      leaf(`${p}.resident`, eo.resident, go.resident)
      const es = arr(eo.smaps)
      const gs = arr(go.smaps)
      leaf(`${p}.smaps.length`, es.length, gs.length)
      es.forEach((x, j) => {
        const xo = obj(x)
        const yo = obj(gs[j])
        for (const k of Object.keys(xo)) {
          if (k === 'VmFlags') leaf(`${p}.smaps[${j}].VmFlags`, flagset(xo[k]), flagset(yo[k]))
          else leaf(`${p}.smaps[${j}](${String(xo.vma)}).${k}`, xo[k], yo[k])
        }
      })
      leaf(`${p}.heap`, JSON.stringify(eo.heap), JSON.stringify(go.heap))
    })
  }
  const process_obj = (path: string, e: J, g: J): void => {
    results(`${path}.results`, arr(obj(e).results), arr(obj(g).results))
    dumps(`${path}.dumps`, arr(obj(e).dumps), arr(obj(g).dumps))
  }
  const eo = obj(expected)
  const go = obj(got)
  for (const k of ['name', 'fs', 'arena_pages']) leaf(k, eo[k], go[k])
  leaf('env', JSON.stringify(eo.env), JSON.stringify(go.env))
  process_obj('', expected, got)
  return a
}
