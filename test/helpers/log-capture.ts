import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Logger, pino } from 'pino'

/**
 * `npm test` sets SP_TEST_LOG_DIR: every service the tests start logs there at debug, and every
 * secret the tests make is noted beside the logs, so that one check after the suite can
 * search all of it (scripts/test.sh, test/log-check/). Without it, services log silently.
 */
const dir = process.env.SP_TEST_LOG_DIR

/** True when `npm test` is collecting logs for the leak check. */
export const capturingLogs = Boolean(dir)

export function testLogger(): Logger {
  if (!dir) return pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })
  const file = join(dir, `service-${process.pid}-${randomBytes(4).toString('hex')}.log`)
  // Synchronous: a worker may exit right after its last test, and a lost line could hide a leak.
  return pino({ level: 'debug' }, pino.destination({ dest: file, sync: true }))
}

/** Records a secret (token, password, device secret, cookie) that must never appear in a log. */
export function noteSecret(secret: string): void {
  if (dir && secret) appendFileSync(join(dir, `secrets-${process.pid}.txt`), `${secret}\n`)
}

/** Where a child process's output should go, or null when not capturing. test/log-check/main.ts expects `child-*.log`. */
export function childLogFile(name: string): string | null {
  return dir ? join(dir, `child-${name}-${process.pid}-${randomBytes(4).toString('hex')}.log`) : null
}

/** Where an in-process logger (not a service's testLogger) should also write, or null when not capturing. */
export function inProcessLogFile(name: string): string | null {
  return dir ? join(dir, `${name}-${process.pid}-${randomBytes(4).toString('hex')}.log`) : null
}

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Number.POSITIVE_INFINITY }
const PINO_LEVEL = /^\{"level":(\d+)/

/**
 * The LOG_LEVEL to start a service process with: debug when capturing (the leak check must see
 * everything it says), else the level the test asked for.
 */
export function childLogLevel(asked: string): string {
  return dir ? 'debug' : asked
}

/**
 * Collects a service process's stdout and stderr: every complete line into its childLogFile (when
 * capturing), and for the test's own output only the lines at or above `shownLevel` (a line that
 * is not a pino line, such as the start banner, always), so a test reads what it did before the
 * capture raised the level to debug. Returns the last `keep` characters of that output.
 */
export function captureChildOutput(child: ChildProcess, name: string, shownLevel: string, keep = 20_000): () => string {
  const file = childLogFile(name)
  const min = LEVELS[shownLevel] ?? LEVELS.info!
  let out = ''
  const take = (text: string) => {
    if (file) appendFileSync(file, text)
    let shown = ''
    for (const line of text.split(/(?<=\n)/)) {
      const level = PINO_LEVEL.exec(line)?.[1]
      if (level === undefined || Number(level) >= min) shown += line
    }
    if (shown) out = (out + shown).slice(-keep)
  }
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue
    // Whole lines only, each stream on its own, so stdout and stderr never interleave inside a line.
    let rest = ''
    stream.on('data', (b: Buffer) => {
      const text = rest + b.toString('utf8')
      const end = text.lastIndexOf('\n') + 1
      rest = text.slice(end)
      if (end > 0) take(text.slice(0, end))
    })
    stream.on('end', () => {
      if (rest) take(`${rest}\n`)
      rest = ''
    })
  }
  return () => out
}
