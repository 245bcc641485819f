/**
 * A brake on failed authentication for one kind of key (a client address, a claimed
 * identity): the first `freeFailures` cost nothing, then each further failure blocks the
 * key for twice as long as the one before, up to `maxBlockMs`. While blocked, callers
 * refuse attempts without checking them, so a guesser learns nothing and the block
 * cannot be argued with. A key is forgotten `forgetMs` after its last failure.
 */
export interface BrakeRule {
  freeFailures: number
  firstBlockMs: number
  maxBlockMs: number
  forgetMs: number
  /** Bound on memory under a flood of distinct keys; the stalest key goes first. */
  maxKeys: number
}

export interface Brake {
  /** Milliseconds until `key` may try again; 0 when it may try now. */
  blockedFor(key: string): number
  /** Records a failure; `blockMs` > 0 when this failure started (or lengthened) a block. */
  failed(key: string): { failures: number; blockMs: number }
  readonly size: number
}

interface Entry {
  failures: number
  lastFailureAt: number
  blockedUntil: number
}

export function createBrake(rule: BrakeRule, now: () => number = Date.now): Brake {
  // Otherwise a key could be forgotten while still blocked and start over with free failures.
  if (rule.forgetMs < rule.maxBlockMs) throw new Error('BrakeRule: forgetMs must be at least maxBlockMs')
  const entries = new Map<string, Entry>()

  const live = (key: string, t: number): Entry | undefined => {
    const e = entries.get(key)
    if (e && t - e.lastFailureAt >= rule.forgetMs && t >= e.blockedUntil) {
      entries.delete(key)
      return undefined
    }
    return e
  }

  return {
    blockedFor(key) {
      const t = now()
      const e = live(key, t)
      return e ? Math.max(0, e.blockedUntil - t) : 0
    },
    failed(key) {
      const t = now()
      const e = live(key, t) ?? { failures: 0, lastFailureAt: t, blockedUntil: 0 }
      e.failures++
      e.lastFailureAt = t
      const over = e.failures - rule.freeFailures
      // The exponent is capped so 2 ** n stays finite however long a key keeps failing.
      const blockMs = over > 0 ? Math.min(rule.firstBlockMs * 2 ** Math.min(over - 1, 40), rule.maxBlockMs) : 0
      if (blockMs > 0) e.blockedUntil = t + blockMs
      // Re-inserting keeps the Map in order of last failure, so eviction drops the stalest key.
      entries.delete(key)
      entries.set(key, e)
      if (entries.size > rule.maxKeys) entries.delete(entries.keys().next().value!)
      return { failures: e.failures, blockMs }
    },
    get size() {
      return entries.size
    },
  }
}
