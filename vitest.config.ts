import { accessSync, constants, statfsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { defineConfig } from 'vitest/config'

/**
 * The tests' scratch files (scenario files, traces, the README's packed
 * package) go under os.tmpdir(). Where /tmp is a disk (ext4 here: ~0.7 ms to
 * create a file, 1.8 ms under load), a tmpfs takes them at memory speed:
 * TMPDIR=/dev/shm for the test workers and what they start, when there is
 * one with room to spare and TMPDIR is not set already.
 */
function ram_tmpdir(): Record<string, string> {
  if (process.env.TMPDIR) return {}
  try {
    accessSync('/dev/shm', constants.W_OK)
    const fs = statfsSync('/dev/shm')
    return fs.type === 0x01021994 && fs.bavail * fs.bsize >= 512 * 1024 ** 2 ? { TMPDIR: '/dev/shm' } : {}
  } catch {
    return {}
  }
}

export default defineConfig({
  // The tests import src/*.js as tsc's NodeNext paths name it; they run the compiled
  // dist/src/*.js instead (test/global_setup.ts builds it first when a source is newer),
  // loaded by Node itself: through vitest's module runner every call between modules went
  // through an export getter, and the suite spent ~15 % more CPU (plus transforming src).
  // The same code the `mmsim` command and the library's users run.
  resolve: { alias: [{ find: /^((?:\.\.\/)+)src\/(.*)$/, replacement: '$1dist/src/$2' }] },
  test: {
    include: ['test/**/*.test.ts'],
    env: ram_tmpdir(),
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
    // V8's optimizing compiler (TurboFan, on background threads) took about a third of the
    // suite's CPU: 1,629 tests run thousands of functions a few hundred times each, and V8
    // optimized ~3,200 of them, ~3,700 times more after deopts as each new test reached a
    // branch or a shape the last compile had not seen. A function must now run 6x longer
    // before it is optimized (interrupt budget 66 KB of bytecode -> 400 KB: ~45% fewer
    // compiles) and inlines half as much bytecode (cheaper compiles). The simulator's hot
    // loops still reach TurboFan within milliseconds. Paired runs, same host, same time:
    // about 12% less CPU for the whole suite. Only the test workers get these flags: the
    // `mmsim` command and the benchmarks run with V8's defaults. V8 flags need a process of
    // their own: worker threads refuse them, so the pool stays child processes (forks).
    // --single-threaded: V8 compiles and collects garbage on the worker's own thread, not on
    // helper threads. With one worker per core the helpers only contend with the other
    // workers for the same cores, and a compile job running in the background keeps the
    // closures it compiles (and the dead machines they capture) alive past a young
    // collection. Alternated runs of the suite, 2 workers on 2 cores, 20 pairs: faster in 15,
    // by ~1 s on average (3-6%), with less CPU.
    pool: 'forks',
    execArgv: ['--interrupt-budget=400000', '--max-inlined-bytecode-size-cumulative=230', '--single-threaded'],
  },
})
