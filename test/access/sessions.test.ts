import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createSessions } from '../../dashboards/access/sessions.ts'
import { createHasher } from '../../registry/credentials.ts'
import type { SessionRow, SessionStore } from '../../store/session-store.ts'

const MIN = 60_000

/** The store's contract is tested on both dialects (test/store/sessions.test.ts); here only what the sessions do with it. */
function memoryStore(): SessionStore & { rows: Map<string, SessionRow> } {
  const rows = new Map<string, SessionRow>()
  const k = (h: Buffer) => h.toString('hex')
  return {
    rows,
    async create(h, personId, now, expiresAt) {
      rows.set(k(h), { personId, createdAt: now, lastSeenAt: now, expiresAt })
    },
    async get(h) {
      const r = rows.get(k(h))
      return r && { ...r }
    },
    async touch(h, now) {
      const r = rows.get(k(h))
      if (r) r.lastSeenAt = now
    },
    async delete(h) {
      rows.delete(k(h))
    },
    async deleteForPerson(id) {
      for (const [key, r] of rows) if (r.personId === id) rows.delete(key)
    },
    async deleteExpired() {
      return 0
    },
  }
}

describe('sessions', () => {
  const setup = () => {
    let t = 0
    const store = memoryStore()
    const sessions = createSessions({
      store,
      hasher: createHasher(randomBytes(32)),
      opts: { idleMs: 30 * MIN, maxMs: 8 * 60 * MIN },
      now: () => t,
    })
    return { sessions, store, advance: (ms: number) => (t += ms) }
  }

  it('keeps a session in use alive until its absolute end, and ends one left idle', async () => {
    const { sessions, advance } = setup()
    const used = await sessions.start('p1')
    const idle = await sessions.start('p2')
    // In use every 20 minutes for 7 h 40 min: alive throughout (idle limit 30 minutes).
    for (let i = 0; i < 23; i++) {
      advance(20 * MIN)
      expect((await sessions.resolve(used.token))?.row.personId).toBe('p1')
    }
    expect(await sessions.resolve(idle.token)).toBeUndefined()
    // 20 more minutes reaches 8 h from sign-in: over, however busy.
    advance(20 * MIN)
    expect(await sessions.resolve(used.token)).toBeUndefined()
  })

  it('is not kept from going idle by the service checking an open connection again', async () => {
    const { sessions, advance } = setup()
    const s = await sessions.start('p1')
    for (let i = 0; i < 5; i++) {
      advance(5 * MIN)
      expect((await sessions.resolve(s.token, { touch: false }))?.row.personId).toBe('p1')
    }
    // 25 minutes of rechecks only; 6 more without the person and the 30-minute idle limit is past.
    advance(6 * MIN)
    expect(await sessions.resolve(s.token, { touch: false })).toBeUndefined()
  })

  it('binds the CSRF token to the session', async () => {
    const { sessions } = setup()
    const a = await sessions.start('p1')
    const b = await sessions.start('p1')
    expect(a.csrf).not.toBe(b.csrf)
    expect((await sessions.resolve(a.token))?.csrf).toBe(a.csrf)
    expect((await sessions.resolve(b.token))?.csrf).toBe(b.csrf)
  })
})
