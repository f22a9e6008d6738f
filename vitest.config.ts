import { availableParallelism } from 'node:os'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 60_000,
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
