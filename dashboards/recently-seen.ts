/**
 * Keys seen succeeding lately (an address that signed in, an address and account together),
 * for a while, in bounded memory: past `max` keys the stalest is forgotten first.
 */
export interface RecentlySeen {
  has(key: string): boolean
  add(key: string): void
}

export function recentlySeen(forMs: number, max: number, now: () => number = Date.now): RecentlySeen {
  const at = new Map<string, number>()
  return {
    has(key) {
      const t = at.get(key)
      return t !== undefined && now() - t < forMs
    },
    add(key) {
      // Re-inserting keeps the Map in order of last success, so eviction drops the stalest key.
      at.delete(key)
      at.set(key, now())
      if (at.size > max) at.delete(at.keys().next().value!)
    },
  }
}
