/**
 * The layer rule (lint/check_layers.mjs, docs/ARCHITECTURE.md): the
 * checker catches an import up the layers and a cycle, and src/ has none.
 */
import { describe, expect, it } from 'vitest'
import { fileURLToPath } from 'node:url'
import { COMPUTED, check_graph, imports_of, layer_of, src_graph } from '../lint/check_layers.mjs'

type Graph = Map<string, string[]>
const check = check_graph

describe('layer rule', () => {
  it('places files by their longest folder prefix', () => {
    const l = layer_of
    expect(l('src/fs/proc/meminfo.ts')?.[0]).toBe('src/fs/proc/')
    expect(l('src/fs/file.ts')?.[0]).toBe('src/fs/')
    expect(l('src/include/bug.ts')?.[1]).toBe(0)
    expect(l('test/x.ts')).toBeNull()
  })

  it('reads imports, type-only imports and re-exports', () => {
    const text = "import { a } from './a.js'\nimport type { B } from '../b/b.js'\nexport * from './c.js'\nimport './d.js'\nimport x from 'node:fs'\n"
    expect(imports_of('src/mm/x.ts', text)).toEqual([
      'src/mm/a.ts', 'src/b/b.ts', 'src/mm/c.ts', 'src/mm/d.ts',
    ])
  })

  it('reads dynamic imports and import() types; a computed import() path is a problem', () => {
    const text = "const { run } = await import('./run.js')\nlet p: import('../arch/profile.js').ArchProfile\nconst fs = await import('node:fs')\n"
    expect(imports_of('src/cli/main.ts', text)).toEqual(['src/cli/run.ts', 'src/arch/profile.ts'])
    expect(imports_of('src/cli/main.ts', 'const m = await import(`./${name}.js`)\n')).toEqual([COMPUTED])
    const g: Graph = new Map([['src/mm/a.ts', imports_of('src/mm/a.ts', "const k = await import('../kernel/k.js')\nawait import(path)\n")], ['src/kernel/k.ts', []]])
    expect(check(g)).toEqual([
      'src/mm/a.ts imports src/kernel/k.ts: src/kernel/ is above src/mm/',
      'src/mm/a.ts: import() of a computed path, which the layer rule cannot follow',
    ])
  })

  it('reports an import up the layers and an import cycle', () => {
    const g: Graph = new Map([
      ['src/mm/a.ts', ['src/kernel/k.ts', 'src/include/bug.ts']],
      ['src/kernel/k.ts', ['src/mm/a.ts']],
      ['src/include/bug.ts', []],
      ['src/fs/x.ts', ['src/fs/y.ts']],
      ['src/fs/y.ts', ['src/fs/x.ts']],
    ])
    const problems = check(g)
    expect(problems).toContain('src/mm/a.ts imports src/kernel/k.ts: src/kernel/ is above src/mm/')
    expect(problems).toContain('import cycle: src/kernel/k.ts -> src/mm/a.ts')
    expect(problems).toContain('import cycle: src/fs/x.ts -> src/fs/y.ts')
    expect(problems).toHaveLength(3)
  })

  it('src/ keeps the rule', () => {
    const root = fileURLToPath(new URL('..', import.meta.url))
    expect(check(src_graph(root))).toEqual([])
  })
})
