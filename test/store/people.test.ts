import { randomBytes } from 'node:crypto'
import type { Insertable } from 'kysely'
import { describe, expect, it } from 'vitest'
import type { Grant } from '#devices'
import { createAreaStore } from '../../store/area-store.ts'
import { createAuditStore } from '../../store/audit-store.ts'
import { createPeopleStore, type NewPerson, type PeopleTable, publicPerson } from '../../store/people-store.ts'
import { createTokenStore } from '../../store/token-store.ts'
import { freshStore, STORE_ADAPTERS } from '../helpers/stores.ts'

const T0 = Date.parse('2026-03-01T10:00:00.000Z')
const HOUR = 3_600_000
const iso = (ms: number) => new Date(ms).toISOString()
const crewA: Grant = { role: 'crew', areas: ['a'] }
const person = (email: string, over: Partial<NewPerson> = {}): NewPerson => ({
  email,
  name: 'Ann Example',
  grants: [crewA],
  status: 'invited',
  passwordHash: null,
  mustChangePassword: false,
  createdBy: 'admin-token',
  ...over,
})
const hash = () => randomBytes(32)

describe.each(STORE_ADAPTERS)('people, tokens, areas and audit stores on %s', (_dialect, open) => {
  const fresh = freshStore(open, 'sp-people-')

  it('keeps emails lower-case, finds them whatever the case, and refuses a second person with the same email', async () => {
    const people = createPeopleStore(fresh.store.db)
    const ann = await people.create(person(' Ann@Council.Example '), new Date(T0))
    expect(ann).toMatchObject({
      email: 'ann@council.example',
      name: 'Ann Example',
      grants: [crewA],
      status: 'invited',
      mustChangePassword: false,
      sso: false,
      createdAt: iso(T0),
      lastSignInAt: null,
      passwordHash: null,
      grantsSource: 'admin',
    })
    expect((await people.byEmail('ANN@council.EXAMPLE'))?.id).toBe(ann.id)
    expect(await people.byEmail('bob@council.example')).toBeUndefined()

    await expect(people.create(person('ann@COUNCIL.example'))).rejects.toThrow()
    expect(await people.createIfNew(person('ANN@council.example', { name: 'Impostor' }))).toBeUndefined()
    expect(await people.count()).toBe(1)
    expect((await people.get(ann.id))?.name).toBe('Ann Example')

    const bob = await people.createIfNew(person('bob@council.example', { status: 'active' }))
    expect(bob?.email).toBe('bob@council.example')
    expect((await people.list()).map((p) => p.email)).toEqual(['ann@council.example', 'bob@council.example'])
    expect(await people.names([ann.id, bob!.id, ann.id])).toEqual(
      new Map([
        [ann.id, 'Ann Example'],
        [bob!.id, 'Ann Example'],
      ]),
    )
  })

  it('replaces grants and status', async () => {
    const people = createPeopleStore(fresh.store.db)
    const p = await people.create(person('carol@council.example'))
    const changed = await people.setGrants(p.id, [{ role: 'housing', areas: ['b', 'c'] }])
    expect(changed?.grants).toEqual([{ role: 'housing', areas: ['b', 'c'] }])
    await people.setStatus(p.id, 'disabled')
    expect((await people.get(p.id))?.status).toBe('disabled')
    expect(await people.setGrants('00000000-0000-0000-0000-000000000000', [crewA])).toBeUndefined()
  })

  it('records whether an administrator or the group map set the grants, an administrator unless told', async () => {
    const people = createPeopleStore(fresh.store.db)
    const invited = await people.create(person('gil@council.example'))
    expect(invited.grantsSource).toBe('admin')
    const bySso = await people.create(person('hal@council.example', { status: 'active', grantsSource: 'sso' }))
    expect(bySso.grantsSource).toBe('sso')

    expect((await people.setGrants(invited.id, [crewA], 'sso'))?.grantsSource).toBe('sso')
    expect((await people.get(invited.id))?.grantsSource).toBe('sso')
    // Existing callers (the people routes) pass no source: an administrator's choice.
    expect((await people.setGrants(invited.id, [{ role: 'viewer', areas: null }]))?.grantsSource).toBe('admin')
    expect((await people.setGrants(bySso.id, [crewA], 'admin'))?.grantsSource).toBe('admin')
    // Admins see it: it says whether the next sign-in may change them.
    expect(publicPerson((await people.get(bySso.id))!)).toMatchObject({ grantsSource: 'admin' })

    // A row written without the column (as before it existed) reads as an administrator's grants.
    const withoutSource: Omit<Insertable<PeopleTable>, 'grants_source'> = {
      id: '11111111-1111-1111-1111-111111111111',
      email: 'kit@council.example',
      name: 'Kit',
      grants: JSON.stringify([crewA]),
      status: 'active',
      password_hash: null,
      must_change_password: 0,
      oidc_subject: null,
      created_at: iso(T0),
      created_by: 'admin-token',
      last_sign_in_at: null,
    }
    await fresh.store.db
      .insertInto('people')
      .values(withoutSource as Insertable<PeopleTable>)
      .execute()
    expect((await people.byEmail('kit@council.example'))?.grantsSource).toBe('admin')
  })

  it('clears a password, and the one-time flag with it, for that person only', async () => {
    const people = createPeopleStore(fresh.store.db)
    const p = await people.create(
      person('ida@council.example', { status: 'active', passwordHash: '$argon2id$p', mustChangePassword: true }),
    )
    const q = await people.create(person('jon@council.example', { status: 'active', passwordHash: '$argon2id$q' }))
    await people.clearPassword(p.id)
    expect(await people.get(p.id)).toMatchObject({ passwordHash: null, mustChangePassword: false, status: 'active' })
    expect((await people.get(q.id))?.passwordHash).toBe('$argon2id$q')
  })

  it('lets exactly one of two concurrent uses of an invitation win, and never an expired one', async () => {
    const people = createPeopleStore(fresh.store.db)
    const p = await people.create(person('dan@council.example'))
    const link = hash()
    await people.addInvitation(link, p.id, T0 + HOUR, 'admin-token')

    const both = await Promise.all([people.useInvitation(link, T0), people.useInvitation(link, T0)])
    expect(both.filter((r) => r === p.id)).toHaveLength(1)
    expect(both.filter((r) => r === undefined)).toHaveLength(1)
    expect(await people.useInvitation(link, T0 + 1)).toBeUndefined()

    const late = hash()
    await people.addInvitation(late, p.id, T0 + HOUR, 'admin-token')
    expect(await people.useInvitation(late, T0 + HOUR)).toBeUndefined()
    expect(await people.useInvitation(late, T0 + HOUR + 1)).toBeUndefined()
    expect(await people.useInvitation(late, T0 + HOUR - 1)).toBe(p.id)
    expect(await people.useInvitation(hash(), T0)).toBeUndefined()
  })

  it('withdraws only the unused invitations of one person', async () => {
    const people = createPeopleStore(fresh.store.db)
    const p = await people.create(person('eve@council.example'))
    const q = await people.create(person('fay@council.example'))
    const [used, first, second, other] = [hash(), hash(), hash(), hash()]
    for (const h of [used, first, second]) await people.addInvitation(h, p.id, T0 + HOUR, 'admin-token')
    await people.addInvitation(other, q.id, T0 + HOUR, 'admin-token')
    expect(await people.useInvitation(used, T0)).toBe(p.id)

    expect(await people.dropInvitations(p.id)).toBe(2)
    expect(await people.useInvitation(first, T0)).toBeUndefined()
    expect(await people.useInvitation(second, T0)).toBeUndefined()
    expect(await people.useInvitation(other, T0)).toBe(q.id)
  })

  it('finds a token by hash only while it is neither revoked nor expired, and records its use', async () => {
    const tokens = createTokenStore(fresh.store.db)
    const [liveHash, revokedHash, expiredHash] = [hash(), hash(), hash()]
    const live = await tokens.create(
      { name: 'sensor import', grant: crewA, tokenHash: liveHash, expiresAt: new Date(T0 + 24 * HOUR), createdBy: 'admin-token' },
      new Date(T0),
    )
    expect(live).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'sensor import',
      grant: crewA,
      createdAt: iso(T0),
      createdBy: 'admin-token',
      expiresAt: iso(T0 + 24 * HOUR),
      revokedAt: null,
      lastUsedAt: null,
    })
    const revoked = await tokens.create({
      name: 'old',
      grant: crewA,
      tokenHash: revokedHash,
      expiresAt: new Date(T0 + HOUR),
      createdBy: 'x',
    })
    await tokens.create({ name: 'expired', grant: crewA, tokenHash: expiredHash, expiresAt: new Date(T0 - 1), createdBy: 'x' })

    expect((await tokens.byHash(liveHash, new Date(T0)))?.id).toBe(live.id)
    expect(await tokens.byHash(liveHash, new Date(T0 + 24 * HOUR))).toBeUndefined()
    expect(await tokens.byHash(expiredHash, new Date(T0))).toBeUndefined()
    expect((await tokens.byHash(revokedHash, new Date(T0)))?.id).toBe(revoked.id)
    expect((await tokens.revoke(revoked.id, new Date(T0 + 5)))?.revokedAt).toBe(iso(T0 + 5))
    expect(await tokens.byHash(revokedHash, new Date(T0))).toBeUndefined()
    // A second revocation keeps the first time.
    expect((await tokens.revoke(revoked.id, new Date(T0 + 9)))?.revokedAt).toBe(iso(T0 + 5))

    await tokens.used(live.id, new Date(T0 + 7))
    expect((await tokens.get(live.id))?.lastUsedAt).toBe(iso(T0 + 7))
    expect(await tokens.list()).toHaveLength(3)
  })

  it('replaces an area and its sites, resolves sites by area, and names missing areas', async () => {
    const areas = createAreaStore(fresh.store.db)
    expect(await areas.put({ id: 'north', name: 'North ward', kind: 'ward', sites: ['s2', 's1', 's2'] }, 'admin-token')).toEqual({
      id: 'north',
      name: 'North ward',
      kind: 'ward',
      sites: ['s1', 's2'],
    })
    await areas.put({ id: 'east', name: 'East estate', kind: 'estate', sites: ['s3'] }, 'admin-token')
    await areas.put({ id: 'north', name: 'North', kind: 'round', sites: ['s4'] }, 'person:x')
    expect(await areas.get('north')).toEqual({ id: 'north', name: 'North', kind: 'round', sites: ['s4'] })
    expect(await areas.sitesByArea()).toEqual(
      new Map([
        ['east', ['s3']],
        ['north', ['s4']],
      ]),
    )
    expect(await areas.missing(['north', 'west', 'south', 'west'])).toEqual(['west', 'south'])
    expect(await areas.missing([])).toEqual([])

    expect(await areas.delete('north')).toBe(true)
    expect(await areas.delete('north')).toBe(false)
    expect((await areas.list()).map((a) => a.id)).toEqual(['east'])
    expect(await areas.sitesByArea()).toEqual(new Map([['east', ['s3']]]))
  })

  it('appends audit entries and lists them newest first, filtered and paged by id', async () => {
    const auditLog = createAuditStore(fresh.store.db)
    for (let i = 0; i < 5; i++) {
      await auditLog.append(
        {
          actor: i % 2 === 0 ? 'admin-token' : 'person:p',
          action: i < 3 ? 'token-created' : 'token-revoked',
          target: `token:${i}`,
          address: '192.0.2.1',
          detail: { n: i, nested: { ok: true } },
        },
        new Date(T0 + i * 1000),
      )
    }
    await auditLog.append({ actor: 'anonymous', action: 'sign-in-failed' }, new Date(T0 + 9000))

    const all = await auditLog.list()
    expect(all.map((e) => e.action)).toEqual([
      'sign-in-failed',
      'token-revoked',
      'token-revoked',
      'token-created',
      'token-created',
      'token-created',
    ])
    expect(all[0]).toEqual({
      id: all[0]!.id,
      at: iso(T0 + 9000),
      actor: 'anonymous',
      action: 'sign-in-failed',
      target: null,
      address: null,
      detail: null,
    })
    expect(all[5]).toEqual({
      id: all[5]!.id,
      at: iso(T0),
      actor: 'admin-token',
      action: 'token-created',
      target: 'token:0',
      address: '192.0.2.1',
      detail: { n: 0, nested: { ok: true } },
    })
    const ids = all.map((e) => e.id)
    expect([...ids].sort((a, b) => b - a)).toEqual(ids)

    const page1 = await auditLog.list({ limit: 4 })
    const page2 = await auditLog.list({ limit: 4, before: page1.at(-1)!.id })
    expect([...page1, ...page2].map((e) => e.id)).toEqual(ids)
    expect(page2).toHaveLength(2)
    expect(await auditLog.list({ limit: 4, before: page2.at(-1)!.id })).toEqual([])

    expect((await auditLog.list({ action: 'token-created', actor: 'admin-token' })).map((e) => e.target)).toEqual(['token:2', 'token:0'])
    expect((await auditLog.list({ actor: 'person:p' })).map((e) => e.target)).toEqual(['token:3', 'token:1'])
  })
})
