import { randomBytes } from 'node:crypto'
import type { Hasher } from '../../registry/credentials.ts'
import type { SessionRow, SessionStore } from '../../store/session-store.ts'

export const SESSION_COOKIE = 'sp_session'
// Writing last-seen on every request would put a database write on every read; a minute is finer than any idle limit.
const TOUCH_EVERY_MS = 60_000

export interface SessionOptions {
  idleMs: number
  maxMs: number
}

export interface Sessions {
  /** A new session for a person: the cookie value (shown to the browser only) and its CSRF token. */
  start(personId: string): Promise<{ token: string; csrf: string; expiresAt: number }>
  /**
   * The live session of a cookie value; undefined when unknown, idle too long or past its absolute end.
   * Touched (not idle) unless `touch` is false: the service checking an open connection again is not the person at work.
   */
  resolve(token: string, opts?: { touch?: boolean }): Promise<{ row: SessionRow; idHash: Buffer; csrf: string } | undefined>
  end(token: string): Promise<void>
  endAllFor(personId: string): Promise<void>
}

export function createSessions(deps: { store: SessionStore; hasher: Hasher; opts: SessionOptions; now?: () => number }): Sessions {
  const now = deps.now ?? Date.now
  const idHash = (token: string) => deps.hasher.hash(`session:${token}`)
  // Derived, not stored: the synchronizer token is bound to the session and useless without the httpOnly cookie.
  const csrfOf = (token: string) => deps.hasher.hash(`csrf:${token}`).toString('base64url')
  return {
    async start(personId) {
      const token = randomBytes(32).toString('base64url')
      const t = now()
      const expiresAt = t + deps.opts.maxMs
      await deps.store.create(idHash(token), personId, t, expiresAt)
      return { token, csrf: csrfOf(token), expiresAt }
    },
    async resolve(token, opts) {
      if (token.length > 100) return undefined
      const h = idHash(token)
      const row = await deps.store.get(h)
      if (!row) return undefined
      const t = now()
      if (t >= row.expiresAt || t - row.lastSeenAt >= deps.opts.idleMs) {
        await deps.store.delete(h)
        return undefined
      }
      if (opts?.touch !== false && t - row.lastSeenAt >= TOUCH_EVERY_MS) await deps.store.touch(h, t)
      return { row, idHash: h, csrf: csrfOf(token) }
    },
    async end(token) {
      await deps.store.delete(idHash(token))
    },
    async endAllFor(personId) {
      await deps.store.deleteForPerson(personId)
    },
  }
}
