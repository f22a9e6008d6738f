/**
 * A miss-ratio curve as a hand-written SVG a person can read: cache size in
 * frames across, miss ratio up on a log scale (real curves fall by decades;
 * on a linear axis everything past the knee is a flat line at zero), one
 * labelled grid line per decade and about eight size ticks. A zero ratio is
 * drawn at the bottom edge.
 */
import type { Curve } from './mrc.js'

const W = 800, H = 500, L = 80, R = 30, T = 50, B = 60

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** A round tick step giving about `n` ticks over [0, max]. */
function step_for(max: number, n: number): number {
  const raw = max / n
  const p = 10 ** Math.floor(Math.log10(raw))
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) as number
}

export function curve_svg(c: Curve, title: string): string {
  const max = c.misses.length
  const ratios = c.misses.map((m) => (c.refs ? m / c.refs : 0))
  let least = Infinity, most = 0
  for (const r of ratios) if (r > 0) { least = Math.min(least, r); most = Math.max(most, r) }
  const lo = Math.floor(Math.log10(most > 0 ? least : 1e-3) - 1e-9)
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(most > 0 ? most : 1) + 1e-9))
  const x = (f: number) => L + ((W - L - R) * (max === 1 ? 0.5 : (f - 1) / (max - 1)))
  const y = (r: number) => T + (H - T - B) * (1 - ((r > 0 ? Math.max(Math.log10(r), lo) : lo) - lo) / (hi - lo))
  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`)
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`)
  out.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="15">${esc(title)}</text>`)
  for (let e = lo; e <= hi; e++) {
    const yy = y(10 ** e).toFixed(1)
    out.push(`<line x1="${L}" y1="${yy}" x2="${W - R}" y2="${yy}" stroke="#ddd"/>`)
    out.push(`<text x="${L - 8}" y="${yy}" text-anchor="end" dominant-baseline="middle">${e >= 0 ? 10 ** e : `1e${e}`}</text>`)
  }
  const st = step_for(max, 8)
  for (let f = st; f <= max; f += st) {
    const xx = x(f).toFixed(1)
    out.push(`<line x1="${xx}" y1="${H - B}" x2="${xx}" y2="${H - B + 5}" stroke="black"/>`)
    out.push(`<text x="${xx}" y="${H - B + 20}" text-anchor="middle">${f}</text>`)
  }
  out.push(`<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`)
  out.push(`<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`)
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 15}" text-anchor="middle">cache size (frames)</text>`)
  out.push(`<text x="20" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 20 ${(T + H - B) / 2})">miss ratio (log scale)</text>`)
  const pts = ratios.map((r, i) => `${x(i + 1).toFixed(1)},${y(r).toFixed(1)}`).join(' ')
  out.push(`<polyline points="${pts}" fill="none" stroke="#1f77b4" stroke-width="2"/>`)
  out.push(`<text x="${W - R}" y="${T - 8}" text-anchor="end" fill="#555">${c.policy.toUpperCase()}, ${c.refs} references, ${c.distinct_pages} distinct pages</text>`)
  out.push('</svg>')
  return out.join('\n') + '\n'
}
