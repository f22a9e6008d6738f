import { availableParallelism } from 'node:os'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  // The tests import src/*.js as tsc's NodeNext paths name it; they run the compiled
  // dist/src/*.js instead (test/global_setup.ts builds it first when a source is newer),
  // loaded by Node itself: through vitest's module runner every call between modules went
  // through an export getter, and the suite spent ~15 % more CPU (plus transforming src).
  // The same code the `mmsim` command and the library's users run.
  resolve: { alias: [{ find: /^((?:\.\.\/)+)src\/(.*)$/, replacement: '$1dist/src/$2' }] },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global_setup.ts'],
    setupFiles: ['test/setup.ts'],
    server: { deps: { external: [/\/dist\/src\//] } },
    testTimeout: 60_000,
    // A passing run prints its summary only; failures print in full, with the
    // console output of the failing tests (test/reporter.ts).
    reporters: ['./test/reporter.ts'],
    silent: 'passed-only',
    // One worker per core (vitest's default leaves one core to its main
    // process, which idles during a run: on 2 cores that was 1 worker).
    maxWorkers: availableParallelism(),
    // Test files share their worker's module graph and JIT-warm code
    // instead of re-importing src/ in a fresh context per file (the suite
    // has no module-level mutable state: src keeps state in Machine, and
    // test/setup.ts re-seeds fast-check for every file). About a third less
    // CPU for the whole suite.
    isolate: false,
  },
})
