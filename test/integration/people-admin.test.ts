import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Area, AuditEntry, Grant, Person } from '#devices'
import { createSessions } from '../../dashboards/access/sessions.ts'
import { apiToken, putArea, signedInPerson } from '../helpers/people.ts'
import { startService, type TestService } from '../helpers/service.ts'

interface ErrorAnswer {
  error: { code: string; message: string; hint: string; issues?: { path: string; message: string }[] }
}
interface Invited {
  person: Person
  invitation: { url: string; expiresAt: string }
}

const HOUR = 3_600_000
const crewA: Grant = { role: 'crew', areas: ['a'] }
const ADMIN: Grant[] = [{ role: 'admin', areas: null }]

describe('people and areas, administered over the API', () => {
  let svc: TestService
  const registry = () => svc.service.registry
  const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    svc.api(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
  /** A request as someone other than ADMIN_TOKEN: their cookie and CSRF header, or their bearer token. */
  const as = (caller: { headers: Record<string, string> }, method: string, path: string, body?: unknown) =>
    fetch(`${svc.url}${path}`, {
      method,
      headers: { ...caller.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  const json = async <T>(res: Response, status: number): Promise<T> => {
    const text = await res.text()
    expect(res.status, text).toBe(status)
    return (text ? JSON.parse(text) : null) as T
  }
  const linkToken = (url: string) => new URL(url).searchParams.get('invitation')!
  const useLink = (token: string) => registry().people.useInvitation(registry().hasher.hash(`invitation:${token}`), Date.now())
  const invite = async (email: string, grants: Grant[] = [crewA]) =>
    json<Invited>(await send('POST', '/api/people', { email, name: email.split('@')[0], grants }), 201)
  /** A second session for a person, as a new sign-in would make. */
  const newSession = async (personId: string) => {
    const s = await createSessions({
      store: registry().sessions,
      hasher: registry().hasher,
      opts: { idleMs: HOUR, maxMs: 12 * HOUR },
    }).start(personId)
    return { headers: { cookie: `sp_session=${s.token}`, 'x-csrf-token': s.csrf } }
  }
  const sessionHash = (cookie: string) => registry().hasher.hash(`session:${cookie.replace(/^sp_session=/, '')}`)
  const auditOf = async (action: string, target: string) =>
    (await json<AuditEntry[]>(await svc.api(`/api/audit?action=${action}`), 200)).filter((e) => e.target === target)

  beforeAll(async () => {
    svc = await startService()
    await putArea(registry(), { id: 'a', name: 'Area A', kind: 'ward', sites: ['site-a'] })
    await putArea(registry(), { id: 'b', name: 'Area B', kind: 'estate', sites: ['site-b'] })
  })
  afterAll(() => svc?.close())

  it('invites a person, who is listed as invited, and whose link is accepted exactly once', async () => {
    const before = Date.now()
    const made = await invite('Invitee.One@Council.Example')
    expect(made.person).toMatchObject({
      email: 'invitee.one@council.example',
      name: 'Invitee.One',
      grants: [crewA],
      status: 'invited',
      mustChangePassword: false,
      sso: false,
      lastSignInAt: null,
    })
    expect(made.invitation.url).toMatch(new RegExp(`^${svc.url}/\\?invitation=[A-Za-z0-9_-]{43}$`))
    const expires = Date.parse(made.invitation.expiresAt)
    expect(expires).toBeGreaterThanOrEqual(before + 72 * HOUR)
    expect(expires).toBeLessThanOrEqual(Date.now() + 72 * HOUR)

    const listed = await json<Person[]>(await svc.api('/api/people'), 200)
    expect(listed.find((p) => p.id === made.person.id)).toEqual(made.person)
    expect(JSON.stringify(listed)).not.toMatch(/passwordHash|password_hash|oidcSubject/)
    expect(await json<Person>(await svc.api(`/api/people/${made.person.id}`), 200)).toEqual(made.person)

    const token = linkToken(made.invitation.url)
    expect(await useLink(token)).toBe(made.person.id)
    expect(await useLink(token)).toBeUndefined()
  })

  it('refuses a second person with the same email, whatever its case, without repeating it', async () => {
    await invite('twice@council.example')
    const clash = await json<ErrorAnswer>(
      await send('POST', '/api/people', { email: 'TWICE@council.example', name: 'Again', grants: [crewA] }),
      409,
    )
    expect(clash.error.code).toBe('CONFLICT')
    expect(JSON.stringify(clash)).not.toContain('twice@')
  })

  it('refuses grants that name unknown areas, naming them, and creates nobody', async () => {
    const bad = await json<ErrorAnswer>(
      await send('POST', '/api/people', {
        email: 'nowhere@council.example',
        name: 'N',
        grants: [{ role: 'crew', areas: ['a', 'nowhere'] }],
      }),
      400,
    )
    expect(bad.error.code).toBe('BAD_REQUEST')
    expect(bad.error.message).toContain('nowhere')
    expect(bad.error.issues).toEqual([{ path: 'body.grants.0.areas.1', message: 'no area nowhere' }])
    expect(await registry().people.byEmail('nowhere@council.example')).toBeUndefined()

    const adminInArea = await json<ErrorAnswer>(
      await send('POST', '/api/people', { email: 'x@council.example', name: 'X', grants: [{ role: 'admin', areas: ['a'] }] }),
      400,
    )
    expect(adminInArea.error.code).toBe('BAD_REQUEST')
  })

  it('sends a fresh link only to an invited person, and the earlier link stops working', async () => {
    const made = await invite('again@council.example')
    const fresh = await json<Invited>(await send('POST', `/api/people/${made.person.id}/invitation`), 201)
    expect(fresh.invitation.url).not.toBe(made.invitation.url)
    expect(await useLink(linkToken(made.invitation.url))).toBeUndefined()
    expect(await useLink(linkToken(fresh.invitation.url))).toBe(made.person.id)

    const active = await signedInPerson(registry(), [crewA])
    const refused = await json<ErrorAnswer>(await send('POST', `/api/people/${active.id}/invitation`), 409)
    expect(refused.error.code).toBe('INVALID_TRANSITION')
    expect(refused.error.message).toContain('active')
    expect(
      (await json<ErrorAnswer>(await send('POST', '/api/people/00000000-0000-0000-0000-000000000000/invitation'), 404)).error.code,
    ).toBe('NOT_FOUND')
  })

  it("ends a person's sessions when their grants change, and the new grants apply", async () => {
    const crew = await signedInPerson(registry(), [crewA])
    expect((await json<Area[]>(await as(crew, 'GET', '/api/areas'), 200)).map((a) => a.id)).toEqual(['a'])
    expect((await as(crew, 'GET', '/api/rounds')).status).toBe(200)

    const housingB: Grant[] = [{ role: 'housing', areas: ['b'] }]
    const changed = await json<Person>(await send('PUT', `/api/people/${crew.id}/grants`, { grants: housingB }), 200)
    expect(changed.grants).toEqual(housingB)
    expect((await as(crew, 'GET', '/api/areas')).status).toBe(401)

    const again = await newSession(crew.id)
    expect((await json<Area[]>(await as(again, 'GET', '/api/areas'), 200)).map((a) => a.id)).toEqual(['b'])
    expect((await as(again, 'GET', '/api/rounds')).status).toBe(403)

    const [entry] = await auditOf('person-grants-changed', `person:${crew.id}`)
    expect(entry).toMatchObject({ actor: 'admin-token', detail: { before: [crewA], after: housingB } })

    const unknown = await json<ErrorAnswer>(
      await send('PUT', `/api/people/${crew.id}/grants`, { grants: [{ role: 'crew', areas: ['zz'] }] }),
      400,
    )
    expect(unknown.error.message).toContain('zz')
    expect((await send('PUT', '/api/people/00000000-0000-0000-0000-000000000000/grants', { grants: [crewA] })).status).toBe(404)
  })

  it('keeps the last active administrator an administrator', async () => {
    const first = await signedInPerson(registry(), ADMIN)
    const demoteSelf = await json<ErrorAnswer>(await as(first, 'PUT', `/api/people/${first.id}/grants`, { grants: [crewA] }), 409)
    expect(demoteSelf.error.code).toBe('INVALID_TRANSITION')
    expect(demoteSelf.error.message).toContain('last active administrator')
    expect((await json<ErrorAnswer>(await send('POST', `/api/people/${first.id}/disable`), 409)).error.message).toContain(
      'last active administrator',
    )
    expect((await json<Person>(await svc.api(`/api/people/${first.id}`), 200)).grants).toEqual(ADMIN)
    expect((await as(first, 'GET', '/api/people')).status).toBe(200)

    const second = await signedInPerson(registry(), ADMIN)
    expect((await json<Person>(await as(first, 'PUT', `/api/people/${first.id}/grants`, { grants: [crewA] }), 200)).grants).toEqual([crewA])
    expect((await as(first, 'GET', '/api/areas')).status).toBe(401)
    expect((await json<ErrorAnswer>(await as(second, 'PUT', `/api/people/${second.id}/grants`, { grants: [crewA] }), 409)).error.code).toBe(
      'INVALID_TRANSITION',
    )
  })

  it('disables a person: their sessions end, no new one works, their link is withdrawn, and nobody disables themselves', async () => {
    const crew = await signedInPerson(registry(), [crewA])
    expect((await as(crew, 'GET', '/api/areas')).status).toBe(200)
    const disabled = await json<Person>(await send('POST', `/api/people/${crew.id}/disable`), 200)
    expect(disabled.status).toBe('disabled')
    // Gone from the store, not merely refused: looked at before any request could tidy it away.
    expect(await registry().sessions.get(sessionHash(crew.cookie))).toBeUndefined()
    expect((await as(crew, 'GET', '/api/areas')).status).toBe(401)
    expect((await as(await newSession(crew.id), 'GET', '/api/areas')).status).toBe(401)
    expect(await auditOf('person-disabled', `person:${crew.id}`)).toHaveLength(1)

    const invited = await invite('withdrawn@council.example')
    await json<Person>(await send('POST', `/api/people/${invited.person.id}/disable`), 200)
    expect(await useLink(linkToken(invited.invitation.url))).toBeUndefined()

    const admin = await signedInPerson(registry(), ADMIN)
    const self = await json<ErrorAnswer>(await as(admin, 'POST', `/api/people/${admin.id}/disable`), 409)
    expect(self.error.code).toBe('INVALID_TRANSITION')
    expect((await json<Person>(await svc.api(`/api/people/${admin.id}`), 200)).status).toBe('active')
  })

  it('lists active people by name, without emails, to roles that see people only', async () => {
    const crew = await signedInPerson(registry(), [crewA], { name: 'Zed Crew' })
    const invited = await invite('not-yet@council.example')
    const directory = await json<{ id: string; name: string }[]>(await as(crew, 'GET', '/api/people/directory'), 200)
    expect(directory).toContainEqual({ id: crew.id, name: 'Zed Crew' })
    expect(directory.map((d) => d.id)).not.toContain(invited.person.id)
    for (const d of directory) expect(Object.keys(d).sort()).toEqual(['id', 'name'])
    expect(JSON.stringify(directory)).not.toContain('@')

    const viewer = await signedInPerson(registry(), [{ role: 'viewer', areas: null }])
    expect((await json<ErrorAnswer>(await as(viewer, 'GET', '/api/people/directory'), 403)).error.code).toBe('FORBIDDEN')
    expect((await fetch(`${svc.url}/api/people/directory`)).status).toBe(401)
  })

  it('refuses the people routes to everyone but administrators', async () => {
    const crew = await signedInPerson(registry(), [crewA])
    const viewerToken = await apiToken(registry(), { role: 'viewer', areas: null })
    for (const caller of [crew, viewerToken]) {
      expect((await as(caller, 'GET', '/api/people')).status).toBe(403)
      expect((await as(caller, 'GET', `/api/people/${crew.id}`)).status).toBe(403)
      expect((await as(caller, 'POST', '/api/people', { email: 'sneaky@council.example', name: 'S', grants: ADMIN })).status).toBe(403)
      expect((await as(caller, 'PUT', `/api/people/${crew.id}/grants`, { grants: ADMIN })).status).toBe(403)
      expect((await as(caller, 'POST', `/api/people/${crew.id}/disable`)).status).toBe(403)
    }
    expect(await registry().people.byEmail('sneaky@council.example')).toBeUndefined()
    expect((await registry().people.get(crew.id))?.grants).toEqual([crewA])
    expect((await json<ErrorAnswer>(await svc.api('/api/people/00000000-0000-0000-0000-000000000000'), 404)).error.code).toBe('NOT_FOUND')
  })

  it('shows each caller only the areas their grants name, and lets administrators change them', async () => {
    const crew = await signedInPerson(registry(), [crewA])
    expect(await json<Area[]>(await as(crew, 'GET', '/api/areas'), 200)).toEqual([
      { id: 'a', name: 'Area A', kind: 'ward', sites: ['site-a'] },
    ])
    expect((await json<ErrorAnswer>(await as(crew, 'GET', '/api/areas/b'), 404)).error.code).toBe('NOT_FOUND')
    expect((await as(crew, 'GET', '/api/areas/a')).status).toBe(200)
    const everywhere = await signedInPerson(registry(), [{ role: 'viewer', areas: null }])
    expect((await json<Area[]>(await as(everywhere, 'GET', '/api/areas'), 200)).map((a) => a.id)).toEqual(
      expect.arrayContaining(['a', 'b']),
    )

    const made = await json<Area>(await send('PUT', '/api/areas/c', { name: 'Area C', kind: 'round', sites: ['site-c2', 'site-c1'] }), 201)
    expect(made).toEqual({ id: 'c', name: 'Area C', kind: 'round', sites: ['site-c1', 'site-c2'] })
    expect(await json<Area>(await send('PUT', '/api/areas/c', { name: 'Area C', kind: 'round', sites: ['site-c3'] }), 200)).toEqual({
      id: 'c',
      name: 'Area C',
      kind: 'round',
      sites: ['site-c3'],
    })
    expect(await json<Area>(await svc.api('/api/areas/c'), 200)).toMatchObject({ sites: ['site-c3'] })
    const changes = await auditOf('area-changed', 'area:c')
    expect(changes.map((e) => e.detail)).toEqual([
      {
        before: { name: 'Area C', kind: 'round', sites: ['site-c1', 'site-c2'] },
        after: { name: 'Area C', kind: 'round', sites: ['site-c3'] },
      },
      { before: null, after: { name: 'Area C', kind: 'round', sites: ['site-c1', 'site-c2'] } },
    ])
    expect((await send('PUT', '/api/areas/c', { name: 'C', kind: 'round', sites: [], id: 'd' })).status).toBe(400)
    expect((await as(crew, 'PUT', '/api/areas/a', { name: 'Mine now', kind: 'ward', sites: ['site-b'] })).status).toBe(403)
    expect((await as(crew, 'DELETE', '/api/areas/c')).status).toBe(403)
    expect((await registry().areas.get('a'))?.sites).toEqual(['site-a'])
  })

  it('deletes only an area nobody and no live token is granted', async () => {
    await putArea(registry(), { id: 'gone', name: 'Gone', kind: 'other', sites: ['site-g'] })
    const holder = await signedInPerson(registry(), [{ role: 'energy', areas: ['gone'] }])
    const granted = await json<ErrorAnswer>(await send('DELETE', '/api/areas/gone'), 409)
    expect(granted.error.code).toBe('CONFLICT')
    expect(granted.error.message).toContain('1 people')

    await json<Person>(await send('PUT', `/api/people/${holder.id}/grants`, { grants: [crewA] }), 200)
    const token = await apiToken(registry(), { role: 'energy', areas: ['gone'] })
    expect((await json<ErrorAnswer>(await send('DELETE', '/api/areas/gone'), 409)).error.message).toContain('1 live API tokens')
    await registry().tokens.revoke(token.id, new Date())
    await apiToken(registry(), { role: 'energy', areas: ['gone'] }, { expiresAt: new Date(Date.now() - 1000) })

    expect((await send('DELETE', '/api/areas/gone')).status).toBe(204)
    expect((await send('DELETE', '/api/areas/gone')).status).toBe(404)
    expect((await svc.api('/api/areas/gone')).status).toBe(404)
    expect((await auditOf('area-changed', 'area:gone'))[0]).toMatchObject({ actor: 'admin-token', detail: { deleted: true } })
  })
})
