/**
 * Token bucket per device. Over the limit, a publish is not refused: its
 * acknowledgement is delayed, and because Aedes handles one client's packets in
 * order, the flooding device's own socket stops being read. The flood costs only
 * that device; others are served as usual.
 */
export interface RateLimiter {
  /** Milliseconds to wait before this message may proceed (0 = now). */
  take(key: object): number
}

export function createRateLimiter(ratePerS: number, burst: number, now: () => number = Date.now): RateLimiter {
  const buckets = new WeakMap<object, { tokens: number; at: number }>()
  if (ratePerS <= 0) return { take: () => 0 }
  return {
    take(key) {
      const t = now()
      let b = buckets.get(key)
      if (!b) {
        b = { tokens: burst, at: t }
        buckets.set(key, b)
      }
      b.tokens = Math.min(burst, b.tokens + ((t - b.at) * ratePerS) / 1000)
      b.at = t
      b.tokens -= 1
      return b.tokens >= 0 ? 0 : Math.ceil((-b.tokens * 1000) / ratePerS)
    },
  }
}
