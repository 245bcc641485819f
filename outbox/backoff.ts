import type { SendOutcome } from '#devices'
import type { AttemptRecord } from '../store/outbox-store.ts'

export interface BackoffPolicy {
  /** The delay after the first failure; doubled after each further one. */
  firstMs: number
  /** The longest delay between two attempts. */
  maxMs: number
  /** How long after its first attempt a delivery is still tried (OUTBOX_RETRY_HOURS); then it is dead. */
  retryForMs: number
}

/**
 * The wait after the `failures`-th failed attempt: exponential (first, 2×first, 4×first, … up to
 * max) with "equal jitter", between half and all of it, so targets that failed together do not
 * all come back together.
 */
export function backoffDelay(failures: number, p: Pick<BackoffPolicy, 'firstMs' | 'maxMs'>, random: () => number = Math.random): number {
  const exp = Math.min(p.maxMs, p.firstMs * 2 ** Math.max(0, Math.min(failures - 1, 40)))
  return Math.round(exp / 2 + (random() * exp) / 2)
}

/**
 * What the store keeps of an attempt. A retry whose next attempt would fall after the retry period
 * (counted from the first attempt) is dead instead, with the last error; a Retry-After the target
 * asked for is honoured.
 */
export function decide(
  outcome: SendOutcome,
  d: { attempts: number; firstAttemptAt: string | null },
  now: Date,
  p: BackoffPolicy,
  random: () => number = Math.random,
): AttemptRecord {
  if (outcome.kind === 'delivered') return { state: 'delivered', at: now }
  if (outcome.kind === 'skipped') return { state: 'delivered', at: now, note: `not sent: ${outcome.reason}` }
  if (outcome.kind === 'dead') return { state: 'dead', at: now, error: outcome.error }
  const failures = d.attempts + 1
  // Retry-After is a least wait; never sooner than the first backoff step (a `Retry-After: 0` must not make a tight loop).
  const delay = outcome.afterMs !== undefined ? Math.max(outcome.afterMs, p.firstMs) : backoffDelay(failures, p, random)
  const first = d.firstAttemptAt ? Date.parse(d.firstAttemptAt) : now.getTime()
  const next = now.getTime() + delay
  if (next > first + p.retryForMs) {
    const hours = Math.round(((now.getTime() - first) / 3_600_000) * 10) / 10
    return { state: 'dead', at: now, error: `gave up after ${failures} attempts over ${hours} h: ${outcome.error}` }
  }
  return { state: 'pending', at: now, nextAttemptMs: next, error: outcome.error }
}

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3), in ms from now; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, nowMs = Date.now()): number | undefined {
  if (!value) return undefined
  const v = value.trim()
  if (/^\d+$/.test(v)) return Number(v) * 1000
  const at = Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs)
}
