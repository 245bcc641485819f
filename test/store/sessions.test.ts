import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createSessionStore } from '../../store/session-store.ts'
import { freshStore, STORE_ADAPTERS } from '../helpers/stores.ts'

const T0 = Date.parse('2026-03-01T10:00:00.000Z')
const MIN = 60_000

describe.each(STORE_ADAPTERS)('session store on %s', (_dialect, open) => {
  const fresh = freshStore(open, 'sp-sessions-')

  it('keeps, touches and ends sessions, one or all of a person', async () => {
    const sessions = createSessionStore(fresh.store.db)
    const [a, b, c] = [randomBytes(32), randomBytes(32), randomBytes(32)]
    await sessions.create(a, 'p1', T0, T0 + 720 * MIN)
    await sessions.create(b, 'p1', T0, T0 + 720 * MIN)
    await sessions.create(c, 'p2', T0, T0 + 720 * MIN)
    await sessions.touch(a, T0 + 5 * MIN)
    expect(await sessions.get(a)).toEqual({ personId: 'p1', createdAt: T0, lastSeenAt: T0 + 5 * MIN, expiresAt: T0 + 720 * MIN })
    await sessions.delete(a)
    expect(await sessions.get(a)).toBeUndefined()
    await sessions.deleteForPerson('p1')
    expect(await sessions.get(b)).toBeUndefined()
    expect(await sessions.get(c)).toMatchObject({ personId: 'p2' })
  })

  it('prunes the sessions past their absolute end or idle too long, and only those', async () => {
    const sessions = createSessionStore(fresh.store.db)
    const [live, idle, over] = [randomBytes(32), randomBytes(32), randomBytes(32)]
    await sessions.create(live, 'p', T0, T0 + 720 * MIN)
    await sessions.create(idle, 'p', T0, T0 + 720 * MIN)
    await sessions.create(over, 'p', T0, T0 + 30 * MIN)
    await sessions.touch(live, T0 + 50 * MIN)
    await sessions.touch(over, T0 + 50 * MIN)
    // At T0+61 min with a 60-minute idle limit: `idle` was last seen at T0, `over` ended at T0+30.
    expect(await sessions.deleteExpired(T0 + 61 * MIN, 60 * MIN)).toBe(2)
    expect(await sessions.get(live)).toMatchObject({ lastSeenAt: T0 + 50 * MIN })
    expect(await sessions.get(idle)).toBeUndefined()
    expect(await sessions.get(over)).toBeUndefined()
  })
})
