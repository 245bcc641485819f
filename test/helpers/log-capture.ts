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

/** Where a child process's output should go, or null when not capturing. */
export function childLogFile(name: string): string | null {
  return dir ? join(dir, `child-${name}-${process.pid}-${randomBytes(4).toString('hex')}.log`) : null
}
