import { randomBytes } from 'node:crypto'

/** What a sign-in started here must match when the provider sends the browser back. */
export interface PendingSignIn {
  codeVerifier: string
  state: string
  nonce: string
  /** Sent again with the code: the token endpoint checks it is the one the code was issued for. */
  redirectUri: string
}

export interface PendingSignIns {
  /** Keeps a sign-in for ttlMs and returns the random id the browser carries in its cookie. */
  put(p: PendingSignIn): string
  /** The sign-in of an id, once: a second callback with the same cookie finds nothing. */
  take(id: string): PendingSignIn | undefined
  readonly size: number
}

/**
 * Sign-ins in progress, in memory: they live minutes, and a restart only means starting again.
 * Bounded, so a stranger calling start in a loop cannot grow it without end; the oldest go first.
 */
export function createPendingSignIns(opts: { ttlMs: number; max: number; now?: () => number }): PendingSignIns {
  const now = opts.now ?? Date.now
  const pending = new Map<string, PendingSignIn & { expiresAt: number }>()
  const sweep = (t: number) => {
    // Insertion order is expiry order (one ttl for all), so the expired are at the front.
    for (const [id, p] of pending) {
      if (p.expiresAt > t) break
      pending.delete(id)
    }
  }
  return {
    put(p) {
      const t = now()
      sweep(t)
      while (pending.size >= opts.max) pending.delete(pending.keys().next().value!)
      const id = randomBytes(24).toString('base64url')
      pending.set(id, { ...p, expiresAt: t + opts.ttlMs })
      return id
    },
    take(id) {
      const p = pending.get(id)
      if (!p) return undefined
      pending.delete(id)
      if (p.expiresAt <= now()) return undefined
      const { expiresAt: _e, ...rest } = p
      return rest
    },
    get size() {
      return pending.size
    },
  }
}
