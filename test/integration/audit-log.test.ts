import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditEntry, Grant } from '#devices'
import { hashPassword } from '../../dashboards/access/passwords.ts'
import { apiToken, putArea, signedInPerson } from '../helpers/people.ts'
import { startService, type TestService } from '../helpers/service.ts'

interface ErrorAnswer {
  error: { code: string; message: string }
}

const crewA: Grant = { role: 'crew', areas: ['a'] }
const LOOPBACK = /^(::ffff:)?127\.0\.0\.1$|^::1$/

describe('the audit log', () => {
  let svc: TestService
  const registry = () => svc.service.registry
  const json = async <T>(res: Response, status: number): Promise<T> => {
    const text = await res.text()
    expect(res.status, text).toBe(status)
    return (text ? JSON.parse(text) : null) as T
  }
  /** Every entry, through the API, paging by `before` as a client would. */
  const everything = async () => {
    const all: AuditEntry[] = []
    for (let before = ''; ; ) {
      const page = await json<AuditEntry[]>(await svc.api(`/api/audit?limit=3${before}`), 200)
      if (page.length === 0) return all
      all.push(...page)
      before = `&before=${page.at(-1)!.id}`
    }
  }

  let admin: Awaited<ReturnType<typeof signedInPerson>>
  const asAdmin = (method: string, path: string, body?: unknown) =>
    fetch(`${svc.url}${path}`, {
      method,
      headers: { ...admin.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })

  let secrets: string[]
  let targets: Record<string, string>
  let known: { id: string; email: string }
  // What a person typed into the sign-in form's email box that is no account's: a password, perhaps.
  const TYPED_PASSWORD = 'my-secret-passphrase-42'
  const WRONG_PASSWORD = 'not-the-right-passphrase'

  beforeAll(async () => {
    svc = await startService()
    await putArea(registry(), { id: 'a', name: 'Area A', kind: 'ward', sites: ['site-a'] })
    admin = await signedInPerson(registry(), [{ role: 'admin', areas: null }], { email: 'chief@council.example' })

    // Each administrative action once, by a signed-in administrator.
    const invited = await json<{ person: { id: string }; invitation: { url: string } }>(
      await asAdmin('POST', '/api/people', { email: 'audited@council.example', name: 'Audited', grants: [crewA] }),
      201,
    )
    await json(await asAdmin('PUT', `/api/people/${invited.person.id}/grants`, { grants: [{ role: 'viewer', areas: null }] }), 200)
    await json(await asAdmin('POST', `/api/people/${invited.person.id}/disable`), 200)
    const made = await json<{ token: string; apiToken: { id: string } }>(
      await asAdmin('POST', '/api/tokens', { name: 'audited token', grant: crewA, expiresInDays: 7 }),
      201,
    )
    await json(await asAdmin('POST', `/api/tokens/${made.apiToken.id}/revoke`), 200)
    await json(await asAdmin('PUT', '/api/areas/b', { name: 'Area B', kind: 'estate', sites: ['site-b'] }), 201)
    await json(await asAdmin('DELETE', '/api/areas/b'), 204)

    // A failed sign-in of each kind: a known account's email with a wrong password, and a password typed into the email box.
    known = await registry().people.create({
      email: 'known@council.example',
      name: 'Known',
      grants: [crewA],
      status: 'active',
      passwordHash: await hashPassword('the right passphrase, long enough'),
      mustChangePassword: false,
      createdBy: 'admin-token',
    })
    for (const email of [known.email, TYPED_PASSWORD]) {
      const res = await fetch(`${svc.url}/api/auth/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: WRONG_PASSWORD }),
      })
      expect(res.status).toBe(401)
      await res.text()
    }

    secrets = [
      made.token,
      made.token.slice(4),
      new URL(invited.invitation.url).searchParams.get('invitation')!,
      TYPED_PASSWORD,
      WRONG_PASSWORD,
    ]
    targets = {
      'invitation-created': `person:${invited.person.id}`,
      'person-grants-changed': `person:${invited.person.id}`,
      'person-disabled': `person:${invited.person.id}`,
      'token-created': `token:${made.apiToken.id}`,
      'token-revoked': `token:${made.apiToken.id}`,
      'area-changed': 'area:b',
    }
  })
  afterAll(() => svc?.close())

  it('records who did each administrative action, to what, when and from where', async () => {
    const start = Date.now() - 60_000
    const entries = await everything()
    for (const [action, target] of Object.entries(targets)) {
      const found = entries.filter((e) => e.action === action && e.target === target)
      expect(found.length, action).toBeGreaterThanOrEqual(1)
      for (const e of found) {
        expect(e.actor, action).toBe(admin.actor)
        expect(e.address, action).toMatch(LOOPBACK)
        expect(Date.parse(e.at), action).toBeGreaterThan(start)
        expect(Date.parse(e.at), action).toBeLessThanOrEqual(Date.now())
      }
    }
    expect(entries.filter((e) => e.action === 'area-changed' && e.target === 'area:b').map((e) => e.detail)).toEqual([
      { deleted: true },
      { before: null, after: { name: 'Area B', kind: 'estate', sites: ['site-b'] } },
    ])
    expect(entries.find((e) => e.action === 'token-created')?.detail).toMatchObject({ name: 'audited token', grant: crewA })
  })

  it('records a failed sign-in against the account it tried, from where; a typed email that is no account is not kept', async () => {
    const failed = (await everything()).filter((e) => e.action === 'sign-in-failed')
    expect(failed.map(({ actor, target, detail }) => ({ actor, target, detail }))).toEqual([
      { actor: 'anonymous', target: null, detail: { method: 'password', reason: 'unknown-email', unknownAccount: true } },
      {
        actor: 'anonymous',
        target: `person:${known.id}`,
        detail: { method: 'password', reason: 'wrong-password', email: 'known@council.example' },
      },
    ])
    for (const e of failed) expect(e.address).toMatch(LOOPBACK)
  })

  it('holds no token, invitation link or password, and an email only as the known account a failed sign-in tried', async () => {
    const entries = await everything()
    const text = JSON.stringify(entries)
    for (const s of secrets) expect(text).not.toContain(s)
    // Emails of people invited, changed or disabled are not there (their ids are); the one email is the attacked account's.
    const withEmail = entries.filter((e) => JSON.stringify(e).includes('@'))
    expect(withEmail.map((e) => [e.action, e.target, e.detail?.email])).toEqual([
      ['sign-in-failed', `person:${known.id}`, 'known@council.example'],
    ])
    expect(text).not.toContain('audited@council.example')
    expect(text).not.toContain('chief@council.example')
  })

  it('pages newest first by id and filters by action and actor', async () => {
    const all = await everything()
    const ids = all.map((e) => e.id)
    expect(new Set(ids).size).toBe(ids.length)
    expect([...ids].sort((a, b) => b - a)).toEqual(ids)
    expect((await json<AuditEntry[]>(await svc.api('/api/audit'), 200)).map((e) => e.id)).toEqual(ids.slice(0, 100))

    const byAction = await json<AuditEntry[]>(await svc.api('/api/audit?action=token-created'), 200)
    expect(byAction.length).toBeGreaterThanOrEqual(1)
    expect(byAction.every((e) => e.action === 'token-created')).toBe(true)
    const byActor = await json<AuditEntry[]>(await svc.api(`/api/audit?actor=${admin.actor}`), 200)
    expect(byActor.map((e) => e.id)).toEqual(all.filter((e) => e.actor === admin.actor).map((e) => e.id))
    expect(await json<AuditEntry[]>(await svc.api('/api/audit?actor=person:00000000-0000-0000-0000-000000000000'), 200)).toEqual([])

    for (const q of ['limit=0', 'limit=501', 'before=0', 'before=x', 'action=made-up']) {
      expect((await json<ErrorAnswer>(await svc.api(`/api/audit?${q}`), 400)).error.code, q).toBe('BAD_REQUEST')
    }
    expect(await json<AuditEntry[]>(await svc.api('/api/audit?limit=500'), 200)).toHaveLength(all.length)
  })

  it('is readable by administrators only', async () => {
    const crew = await signedInPerson(registry(), [crewA])
    const viewer = await apiToken(registry(), { role: 'viewer', areas: null })
    expect((await json<ErrorAnswer>(await fetch(`${svc.url}/api/audit`, { headers: crew.headers }), 403)).error.code).toBe('FORBIDDEN')
    expect((await json<ErrorAnswer>(await fetch(`${svc.url}/api/audit`, { headers: viewer.headers }), 403)).error.code).toBe('FORBIDDEN')
    expect((await fetch(`${svc.url}/api/audit`)).status).toBe(401)
    expect((await fetch(`${svc.url}/api/audit`, { headers: admin.headers })).status).toBe(200)
  })

  it('has no route that changes or removes an entry', async () => {
    const [newest] = await json<AuditEntry[]>(await svc.api('/api/audit?limit=1'), 200)
    for (const [method, path] of [
      ['PUT', `/api/audit/${newest!.id}`],
      ['PATCH', `/api/audit/${newest!.id}`],
      ['DELETE', `/api/audit/${newest!.id}`],
      ['DELETE', '/api/audit'],
      ['POST', '/api/audit'],
      ['PUT', '/api/audit'],
    ] as const) {
      const res = await svc.api(path, { method, body: JSON.stringify({ action: 'sign-in', actor: 'someone-else' }) })
      expect(res.status, `${method} ${path}`).toBe(404)
    }
    expect((await json<AuditEntry[]>(await svc.api('/api/audit?limit=1'), 200))[0]).toEqual(newest)
  })
})
