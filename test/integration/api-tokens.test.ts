import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ApiToken, Area, AuditEntry, Grant } from '#devices'
import { apiToken, putArea, signedInPerson } from '../helpers/people.ts'
import { startService, type TestService } from '../helpers/service.ts'

interface ErrorAnswer {
  error: { code: string; message: string; hint: string; issues?: { path: string; message: string }[] }
}
interface Created {
  token: string
  apiToken: ApiToken
}

const DAY = 86_400_000
const crewA: Grant = { role: 'crew', areas: ['a'] }

describe('API tokens for automation', () => {
  let svc: TestService
  const registry = () => svc.service.registry
  const send = (method: string, path: string, body?: unknown) =>
    svc.api(path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
  const bearer = (token: string, path: string, method = 'GET') =>
    fetch(`${svc.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } })
  const json = async <T>(res: Response, status: number): Promise<T> => {
    const text = await res.text()
    expect(res.status, text).toBe(status)
    return (text ? JSON.parse(text) : null) as T
  }
  const create = async (name: string, grant: Grant, expiresInDays = 30) =>
    json<Created>(await send('POST', '/api/tokens', { name, grant, expiresInDays }), 201)

  beforeAll(async () => {
    svc = await startService()
    await putArea(registry(), { id: 'a', name: 'Area A', kind: 'round', sites: ['site-a'] })
    await putArea(registry(), { id: 'b', name: 'Area B', kind: 'round', sites: ['site-b'] })
    await svc.provision({ id: 'bin-in-a', type: 'bin', site: 'site-a' })
    await svc.provision({ id: 'bin-in-b', type: 'bin', site: 'site-b' })
  })
  afterAll(() => svc?.close())

  it('creates a token shown once, which works at once within its role', async () => {
    const before = Date.now()
    const made = await create('round sync', crewA, 30)
    expect(made.token).toMatch(/^spt_[A-Za-z0-9_-]{43}$/)
    expect(made.apiToken).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'round sync',
      grant: crewA,
      createdAt: expect.any(String),
      createdBy: 'admin-token',
      expiresAt: expect.any(String),
      revokedAt: null,
      lastUsedAt: null,
    })
    const expires = Date.parse(made.apiToken.expiresAt)
    expect(expires).toBeGreaterThanOrEqual(before + 30 * DAY)
    expect(expires).toBeLessThanOrEqual(Date.now() + 30 * DAY)

    expect((await bearer(made.token, '/api/rounds')).status).toBe(200)
    expect((await json<ErrorAnswer>(await bearer(made.token, '/api/quarantine'), 403)).error.code).toBe('FORBIDDEN')
    expect((await bearer(made.token, '/api/tokens')).status).toBe(403)
  })

  it('lists tokens without their values or hashes, with the time each was last used', async () => {
    const made = await create('lister', crewA)
    const hash = registry().hasher.hash(made.token)
    expect((await bearer(made.token, '/api/rounds')).status).toBe(200)

    const text = await (await svc.api('/api/tokens')).text()
    expect(text).not.toContain(made.token)
    expect(text).not.toContain(made.token.slice(4))
    for (const form of ['hex', 'base64', 'base64url'] as const) expect(text).not.toContain(hash.toString(form))
    const listed = JSON.parse(text) as ApiToken[]
    for (const t of listed) {
      expect(Object.keys(t).sort()).toEqual(['createdAt', 'createdBy', 'expiresAt', 'grant', 'id', 'lastUsedAt', 'name', 'revokedAt'])
    }
    const mine = listed.find((t) => t.id === made.apiToken.id)!
    expect(mine.lastUsedAt).not.toBeNull()
    expect(Date.parse(mine.lastUsedAt!)).toBeGreaterThanOrEqual(Date.parse(made.apiToken.createdAt))
  })

  it('refuses a revoked token from its next request, and a second revocation changes nothing', async () => {
    const made = await create('to revoke', crewA)
    expect((await bearer(made.token, '/api/rounds')).status).toBe(200)
    const revoked = await json<ApiToken>(await send('POST', `/api/tokens/${made.apiToken.id}/revoke`), 200)
    expect(revoked.revokedAt).not.toBeNull()
    expect((await json<ErrorAnswer>(await bearer(made.token, '/api/rounds'), 401)).error.code).toBe('UNAUTHENTICATED')
    expect(await json<ApiToken>(await send('POST', `/api/tokens/${made.apiToken.id}/revoke`), 200)).toEqual(revoked)

    const entries = (await json<AuditEntry[]>(await svc.api('/api/audit?action=token-revoked'), 200)).filter(
      (e) => e.target === `token:${made.apiToken.id}`,
    )
    expect(entries).toHaveLength(1)
    expect((await json<ErrorAnswer>(await send('POST', '/api/tokens/00000000-0000-0000-0000-000000000000/revoke'), 404)).error.code).toBe(
      'NOT_FOUND',
    )
  })

  it('refuses an expired token', async () => {
    const expired = await apiToken(registry(), crewA, { expiresAt: new Date(Date.now() - 1000) })
    expect((await bearer(expired.token, '/api/rounds')).status).toBe(401)
    const forged = `spt_${'A'.repeat(43)}`
    expect((await bearer(forged, '/api/rounds')).status).toBe(401)
  })

  it('shows a token scoped to area A only area A', async () => {
    const made = await create('area a only', crewA)
    expect((await json<Area[]>(await bearer(made.token, '/api/areas'), 200)).map((a) => a.id)).toEqual(['a'])
    expect((await bearer(made.token, '/api/areas/b')).status).toBe(404)
    expect((await bearer(made.token, '/api/devices/bin-in-a')).status).toBe(200)
    expect((await json<ErrorAnswer>(await bearer(made.token, '/api/devices/bin-in-b'), 404)).error.code).toBe('NOT_FOUND')
  })

  it('refuses bad token requests: unknown areas, out-of-range expiry, an admin confined to areas', async () => {
    const unknown = await json<ErrorAnswer>(
      await send('POST', '/api/tokens', { name: 'x', grant: { role: 'crew', areas: ['a', 'nowhere'] }, expiresInDays: 1 }),
      400,
    )
    expect(unknown.error.message).toContain('nowhere')
    expect(unknown.error.issues).toEqual([{ path: 'body.grant.areas.1', message: 'no area nowhere' }])
    for (const expiresInDays of [0, 367, 1.5]) {
      expect((await send('POST', '/api/tokens', { name: 'x', grant: crewA, expiresInDays })).status).toBe(400)
    }
    expect((await send('POST', '/api/tokens', { name: 'x', grant: { role: 'admin', areas: ['a'] }, expiresInDays: 1 })).status).toBe(400)
    expect((await send('POST', '/api/tokens', { name: '', grant: crewA, expiresInDays: 1 })).status).toBe(400)
    expect((await json<ApiToken[]>(await svc.api('/api/tokens'), 200)).map((t) => t.name)).not.toContain('x')
  })

  it('lets only administrators create, list and revoke tokens', async () => {
    const victim = await create('victim', crewA)
    const viewer = await apiToken(registry(), { role: 'viewer', areas: null })
    const crew = await signedInPerson(registry(), [crewA])
    for (const headers of [viewer.headers, crew.headers]) {
      const body = JSON.stringify({ name: 'escalate', grant: { role: 'admin', areas: null }, expiresInDays: 1 })
      expect(
        (await fetch(`${svc.url}/api/tokens`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body }))
          .status,
      ).toBe(403)
      expect((await fetch(`${svc.url}/api/tokens`, { headers })).status).toBe(403)
      expect((await fetch(`${svc.url}/api/tokens/${victim.apiToken.id}/revoke`, { method: 'POST', headers })).status).toBe(403)
    }
    expect((await bearer(victim.token, '/api/rounds')).status).toBe(200)
    expect((await json<ApiToken[]>(await svc.api('/api/tokens'), 200)).map((t) => t.name)).not.toContain('escalate')

    const adminPerson = await signedInPerson(registry(), [{ role: 'admin', areas: null }])
    const res = await fetch(`${svc.url}/api/tokens`, {
      method: 'POST',
      headers: { ...adminPerson.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'by a person', grant: crewA, expiresInDays: 1 }),
    })
    expect((await json<Created>(res, 201)).apiToken.createdBy).toBe(adminPerson.actor)
  })
})
