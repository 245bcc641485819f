import { describe, expect, it } from 'vitest'
import { backoffDelay, decide, retryAfterMs } from '../../outbox/backoff.ts'

const P = { firstMs: 5_000, maxMs: 3_600_000, retryForMs: 24 * 3_600_000 }

describe('backoff', () => {
  it('doubles from the first delay up to the longest, jittered between half and all of it', () => {
    const low = (n: number) => backoffDelay(n, P, () => 0)
    const high = (n: number) => backoffDelay(n, P, () => 1)
    expect([1, 2, 3, 4].map(high)).toEqual([5_000, 10_000, 20_000, 40_000])
    expect([1, 2, 3, 4].map(low)).toEqual([2_500, 5_000, 10_000, 20_000])
    expect(high(30)).toBe(3_600_000)
    expect(high(10_000)).toBe(3_600_000)
    // Uniform in between: a thousand draws spread over the range, none outside it.
    const draws = Array.from({ length: 1000 }, () => backoffDelay(3, P))
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(10_000)
    expect(Math.max(...draws)).toBeLessThanOrEqual(20_000)
    expect(new Set(draws).size).toBeGreaterThan(500)
  })

  it('retries until the retry period after the first attempt is used up, then dead-letters with the last error', () => {
    const first = new Date('2026-12-01T00:00:00Z')
    const at = (ms: number) => new Date(first.getTime() + ms)
    const r1 = decide({ kind: 'retry', error: 'ECONNREFUSED' }, { attempts: 0, firstAttemptAt: null }, first, P, () => 1)
    expect(r1).toEqual({ state: 'pending', at: first, nextAttemptMs: first.getTime() + 5_000, error: 'ECONNREFUSED' })
    const late = decide(
      { kind: 'retry', error: 'HTTP 500' },
      { attempts: 40, firstAttemptAt: first.toISOString() },
      at(23.5 * 3_600_000),
      P,
      () => 1,
    )
    expect(late).toMatchObject({ state: 'dead' })
    expect((late as { error: string }).error).toMatch(/^gave up after 41 attempts over 23\.5 h: HTTP 500$/)
    // Within the period, still pending.
    expect(decide({ kind: 'retry', error: 'x' }, { attempts: 3, firstAttemptAt: first.toISOString() }, at(3_600_000), P).state).toBe(
      'pending',
    )
  })

  it('honours Retry-After, passes delivered and dead through', () => {
    const now = new Date('2026-12-01T00:00:00Z')
    const r = decide({ kind: 'retry', error: '429', afterMs: 120_000 }, { attempts: 0, firstAttemptAt: null }, now, P)
    expect(r).toMatchObject({ state: 'pending', nextAttemptMs: now.getTime() + 120_000 })
    expect(decide({ kind: 'delivered', status: 204 }, { attempts: 2, firstAttemptAt: null }, now, P)).toEqual({
      state: 'delivered',
      at: now,
    })
    expect(decide({ kind: 'dead', error: '410 Gone' }, { attempts: 0, firstAttemptAt: null }, now, P)).toEqual({
      state: 'dead',
      at: now,
      error: '410 Gone',
    })
  })

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-12-01T10:00:00Z')
    expect(retryAfterMs('30', now)).toBe(30_000)
    expect(retryAfterMs('Tue, 01 Dec 2026 10:01:00 GMT', now)).toBe(60_000)
    expect(retryAfterMs('Tue, 01 Dec 2026 09:00:00 GMT', now)).toBe(0)
    expect(retryAfterMs('soon', now)).toBeUndefined()
    expect(retryAfterMs(undefined, now)).toBeUndefined()
  })
})
