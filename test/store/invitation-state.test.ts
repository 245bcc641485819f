import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createPeopleStore } from '../../store/people-store.ts'
import { freshStore, STORE_ADAPTERS } from '../helpers/stores.ts'

const T0 = Date.parse('2026-03-01T10:00:00.000Z')
const HOUR = 3_600_000

describe.each(STORE_ADAPTERS)('what became of an invitation link, on %s', (_dialect, open) => {
  const fresh = freshStore(open, 'sp-invitation-state-')

  it('tells a live link from a used and an expired one, and knows none it never made or withdrew', async () => {
    const people = createPeopleStore(fresh.store.db)
    const p = await people.create({
      email: 'robin@council.example',
      name: 'Robin',
      grants: [{ role: 'crew', areas: ['a'] }],
      status: 'invited',
      passwordHash: null,
      mustChangePassword: false,
      createdBy: 'admin-token',
    })
    const [live, used, expired, withdrawn] = [randomBytes(32), randomBytes(32), randomBytes(32), randomBytes(32)]
    await people.addInvitation(live, p.id, T0 + HOUR, 'admin-token')
    await people.addInvitation(used, p.id, T0 + HOUR, 'admin-token')
    await people.addInvitation(expired, p.id, T0 - 1, 'admin-token')
    expect(await people.useInvitation(used, T0)).toBe(p.id)

    expect(await people.invitationState(live, T0)).toEqual({ personId: p.id, state: 'live' })
    expect(await people.invitationState(used, T0)).toEqual({ personId: p.id, state: 'used' })
    expect(await people.invitationState(expired, T0)).toEqual({ personId: p.id, state: 'expired' })
    // A used link stays used after it would have expired; a live one expires at its time.
    expect(await people.invitationState(used, T0 + 2 * HOUR)).toEqual({ personId: p.id, state: 'used' })
    expect(await people.invitationState(live, T0 + HOUR)).toEqual({ personId: p.id, state: 'expired' })
    expect(await people.invitationState(randomBytes(32), T0)).toBeUndefined()

    // Looking changed nothing: the live link still works, once.
    expect(await people.useInvitation(live, T0)).toBe(p.id)
    expect(await people.invitationState(live, T0)).toEqual({ personId: p.id, state: 'used' })

    // Withdrawn (a newer link was sent): as if never made.
    await people.addInvitation(withdrawn, p.id, T0 + HOUR, 'admin-token')
    await people.dropInvitations(p.id)
    expect(await people.invitationState(withdrawn, T0)).toBeUndefined()
  })
})
