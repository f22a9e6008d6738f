// @ts-check
/**
 * The package's bin, dist/bin/mmsim.js: src/cli/mmsim.ts as tsc built it
 * (dist/src/cli/mmsim.js), bundled with the project's modules it imports.
 * Node's ES module loader pays per file (resolution, package scope lookup,
 * read, compile): ~290 files took about half of a `mmsim proc` start-up.
 * The chunks follow main.ts's lazy imports, so a command still loads only
 * what it runs (test/cli/startup.test.ts checks that on the unbundled
 * files). The dependencies (zod, yaml, zstddec) stay packages of their own.
 */
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'rolldown'

/** A path of this repository, wherever the build is started from (npm, or test/global_setup.ts). */
const here = (p) => fileURLToPath(new URL(p, import.meta.url))

export default defineConfig({
  input: here('dist/src/cli/mmsim.js'),
  platform: 'node',
  external: [/^(zod|yaml|zstddec)(\/|$)/, /^node:/],
  output: {
    dir: here('dist/bin'),
    format: 'esm',
    chunkFileNames: '[name].js',
    // Error classes and the like keep the names the source gives them.
    keepNames: true,
    cleanDir: true,
  },
})
