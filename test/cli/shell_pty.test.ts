/**
 * `mmsim shell` under a real terminal: the built command runs in a tmux
 * pane (a pty), keys are sent one at a time as a person types them, and
 * the pane's text is read back. Checks the prompt, line editing (cursor
 * keys), history (up arrow), tab completion of commands and /proc paths,
 * Ctrl-C (cancels the line, the shell goes on) and Ctrl-D (exits 0).
 *
 * Skipped with a message when tmux is not installed here; .ci/run
 * installs it and sets MMSIM_REQUIRE_TMUX=1, so on CI a missing tmux
 * fails instead of skipping.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const bin = fileURLToPath(new URL('../../dist/bin/mmsim.js', import.meta.url))
const have_tmux = spawnSync('tmux', ['-V']).status === 0
if (!have_tmux && process.env.MMSIM_REQUIRE_TMUX === '1') throw new Error('tmux is not installed but MMSIM_REQUIRE_TMUX=1: .ci/run should have installed it')
if (!have_tmux) console.warn('test/cli/shell_pty.test.ts: skipped, tmux is not installed (apt-get install tmux to run it)')

const dir = mkdtempSync(join(tmpdir(), 'mmsim-pty-'))
const socket = join(dir, 'tmux.sock')

function tmux(...args: string[]): string {
  const r = spawnSync('tmux', ['-S', socket, ...args], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

/** The pane's text, trailing blank lines dropped. */
function screen(): string {
  return tmux('capture-pane', '-p', '-t', 'sh').replace(/\n+$/, '')
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Wait until the pane shows what `ok` accepts (the shell runs on a loaded host: generous timeout). */
async function until(ok: (s: string) => boolean, what: string): Promise<string> {
  const t0 = Date.now()
  for (;;) {
    const s = screen()
    if (ok(s)) return s
    if (Date.now() - t0 > 20_000) throw new Error(`timed out waiting for ${what}; the pane shows:\n${s}`)
    // A short poll: the shell answers within milliseconds, and a worker asleep here leaves its core idle.
    await sleep(10)
  }
}

/**
 * Type keys one at a time (tmux key names: Left, Up, Tab, C-c, ...), as a person does: each
 * its own send-keys, so its own write to the pty, a few milliseconds apart. Readline parses
 * its keys the same when they arrive closer together (its completer is synchronous, and a
 * double Tab is two Tab keys in a row, not a timing), so the gap needs no person's 100 ms:
 * a tmux command of its own apart is enough.
 */
async function keys(...ks: string[]): Promise<void> {
  for (const k of ks) {
    tmux('send-keys', '-t', 'sh', ...(k.length > 1 && /^(Left|Right|Up|Down|Tab|Enter|Home|End|BSpace|C-.)$/.test(k) ? [k] : ['-l', k]))
    await sleep(2)
  }
}

const count = (s: string, sub: string): number => s.split(sub).length - 1
const last_line = (s: string): string => s.split('\n').pop()!

afterAll(() => {
  if (have_tmux) spawnSync('tmux', ['-S', socket, 'kill-server'])
  rmSync(dir, { recursive: true, force: true })
})

describe.skipIf(!have_tmux)('mmsim shell on a terminal (tmux)', () => {
  it('prompts, edits, recalls history, completes, survives Ctrl-C and leaves at Ctrl-D', async () => {
    tmux('new-session', '-d', '-s', 'sh', '-x', '120', '-y', '50',
      `'${process.execPath}' '${bin}' shell --norandmaps; echo "[exit $?]"; sleep 60`)
    // The prompt, after the one-line greeting.
    let s = await until((x) => last_line(x) === 'mmsim>', 'the prompt')
    expect(s).toContain('mmsim shell: type help for the commands, exit to leave')

    await keys('spawn a', 'Enter')
    await until((x) => x.includes('a: spawn("a") = 100') && last_line(x) === 'mmsim>', 'spawn')

    // Tab completes a command's name.
    await keys('kmallo', 'Tab')
    await until((x) => last_line(x) === 'mmsim> kmalloc', 'completion of kmallo')
    await keys(' 128', 'Enter')
    await until((x) => count(x, 'kernel: kmalloc(128, 0xcc0(GFP_KERNEL)) = 0xffff888') === 1 && last_line(x) === 'mmsim>', 'kmalloc')

    // Up arrow recalls the last line; Enter runs it again.
    await keys('Up')
    await until((x) => last_line(x) === 'mmsim> kmalloc 128', 'history')
    await keys('Enter')
    await until((x) => count(x, 'kernel: kmalloc(128,') === 2 && last_line(x) === 'mmsim>', 'the recalled kmalloc')

    // Cursor keys edit inside the line: "kmalloc 18", two left, "2" -> kmalloc 218.
    await keys('kmalloc 18', 'Left', 'Left', '2', 'Enter')
    await until((x) => x.includes('kernel: kmalloc(218,') && last_line(x) === 'mmsim>', 'the edited line')

    // Tab twice on an ambiguous path lists the next component of each /proc file.
    await keys('cat /proc/s', 'Tab', 'Tab')
    s = await until((x) => x.includes('/proc/slabinfo') && x.includes('/proc/sys/'), 'the path candidates')
    expect(s).toMatch(/\/proc\/self\/\s+\/proc\/slabinfo\s+\/proc\/stat\s+\/proc\/swaps\s+\/proc\/sys\//)
    await keys('wa', 'Tab')
    await until((x) => last_line(x) === 'mmsim> cat /proc/swaps', 'completion of /proc/swa')

    // Ctrl-C cancels the line being typed (nothing runs) and the shell goes on.
    await keys('C-c')
    s = await until((x) => x.includes('mmsim> cat /proc/swaps^C') && last_line(x) === 'mmsim>', 'Ctrl-C')
    expect(s).not.toContain('Filename')
    await keys('ps', 'Enter')
    s = await until((x) => x.includes('  PID COMMAND') && last_line(x) === 'mmsim>', 'ps after Ctrl-C')
    expect(s).toMatch(/^ {2}100 a {16}S {2}<- current$/m)
    expect(s).not.toContain('[exit')

    // Ctrl-D on an empty line ends the shell with status 0.
    await keys('C-d')
    s = await until((x) => x.includes('[exit'), 'the exit')
    expect(s).toContain('[exit 0]')
    expect(s).not.toMatch(/Error|at .*\.js:\d+/)
  }, 120_000)
})
