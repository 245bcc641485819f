import { randomBytes, randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Alert, type AlertHistoryEntry, ApiToken, Person } from '#devices'
import { REPLAY_LIMIT } from '../../dashboards/rate-limits.ts'
import { AREA, type AuthzFixture, type Caller, call, grantOf, SITE, startAuthzFixture, UPRN, type Who } from '../helpers/authz-fixture.ts'
import { apiToken, signedInPerson } from '../helpers/people.ts'

/**
 * Acceptance 2 of issue 10: negative tests for the OWASP API Security Top 10 (2023) items that an
 * API with people, roles and areas can get wrong. Callers hold area A (site-a); area B is someone else's.
 */

interface Answer {
  status: number
  code: string | undefined
  message: string | undefined
  text: string
  body: unknown
}

describe('OWASP API Security Top 10', () => {
  let f: AuthzFixture

  beforeAll(async () => {
    f = await startAuthzFixture()
  })
  afterAll(async () => {
    await f?.close()
  })

  const ask = async (caller: Pick<Caller, 'headers'>, method: string, path: string, body?: unknown): Promise<Answer> => {
    const res = await call(f.svc, caller, method, path, body)
    const text = await res.text()
    let parsed: unknown = null
    try {
      parsed = JSON.parse(text)
    } catch {
      // Not JSON (metrics, an empty 204): the text is enough.
    }
    const error = (parsed as { error?: { code?: string; message?: string } } | null)?.error
    return { status: res.status, code: error?.code, message: error?.message, text, body: parsed }
  }
  const get = (caller: Pick<Caller, 'headers'>, path: string) => ask(caller, 'GET', path)
  const admin = () => f.caller('admin', 'admin-token')
  const crew = () => f.caller('crew')
  const housing = () => f.caller('housing')
  const viewer = () => f.caller('viewer')
  const NON_ADMINS: Who[] = ['crew', 'housing', 'energy', 'viewer']
  const nonAdminCallers = () => NON_ADMINS.flatMap((w) => [f.caller(w, 'session'), f.caller(w, 'token')])

  describe('API1 broken object level authorisation: another area’s objects by id', () => {
    it('answers another area’s device, alert, case, round and incident exactly like missing ones', async () => {
      const pairs: [Caller, string, string][] = [
        [crew(), `/api/devices/${f.devices.b.bin}`, '/api/devices/no-such-bin'],
        [housing(), `/api/devices/${f.devices.b.boiler}`, '/api/devices/no-such-boiler'],
        [crew(), `/api/alerts/${f.alerts.b.bin}`, `/api/alerts/${randomUUID()}`],
        [crew(), `/api/alerts/${f.alerts.b.bin}/history`, `/api/alerts/${randomUUID()}/history`],
        [housing(), `/api/cases/${f.cases.b}`, `/api/cases/${randomUUID()}`],
        [crew(), `/api/rounds/${f.rounds.b}`, '/api/rounds/no-such-round'],
        [crew(), `/api/incidents/${f.incidents.b}`, `/api/incidents/${randomUUID()}`],
        [crew(), `/api/devices/${f.devices.b.bin}/readings`, '/api/devices/no-such-bin/readings'],
        [crew(), `/api/bins/${f.devices.b.bin}/schedule`, '/api/bins/no-such-bin/schedule'],
        [crew(), `/api/bins/${f.devices.b.bin}/outlook`, '/api/bins/no-such-bin/outlook'],
        [crew(), `/api/rules/effective/${f.devices.b.bin}`, '/api/rules/effective/no-such-bin'],
        [crew(), `/api/areas/${AREA.b}`, '/api/areas/no-such-area'],
      ]
      for (const [caller, theirs, missing] of pairs) {
        const a = await get(caller, theirs)
        const m = await get(caller, missing)
        expect([a.status, a.code], theirs).toEqual([404, 'NOT_FOUND'])
        expect([m.status, m.code], missing).toEqual([404, 'NOT_FOUND'])
        // The message names the id asked for and nothing else, so the two read alike.
        const [ours, other] = [theirs.split('/'), missing.split('/')]
        const at = ours.findIndex((segment, i) => segment !== other[i])
        expect(a.message?.replace(ours[at]!, '<id>'), theirs).toBe(m.message?.replace(other[at]!, '<id>'))
      }
      // The same ids for their own area's callers and admins: the objects exist.
      expect((await get(f.caller('crew', 'token'), `/api/devices/${f.devices.a.bin}`)).status).toBe(200)
      expect((await get(admin(), `/api/devices/${f.devices.b.bin}`)).status).toBe(200)
      expect((await get(admin(), `/api/cases/${f.cases.b}`)).status).toBe(200)
    })

    it('changes nothing when acting on another area’s objects', async () => {
      const alertId = f.alerts.b.bin
      const historyBefore = ((await get(admin(), `/api/alerts/${alertId}/history`)).body as AlertHistoryEntry[]).length
      for (const action of ['ack', 'acknowledge', 'resolve', 'snooze', 'assign']) {
        const body = {
          acknowledge: { comment: 'mine now' },
          resolve: { note: 'closed by someone else' },
          snooze: { until: new Date(Date.now() + 3_600_000).toISOString() },
          assign: { to: `team:crew@${AREA.b}` },
        }[action]
        const r = await ask(crew(), 'POST', `/api/alerts/${alertId}/${action}`, body)
        expect([r.status, r.code], action).toEqual([404, 'NOT_FOUND'])
      }
      const after = (await get(admin(), `/api/alerts/${alertId}`)).body as Alert
      expect(after).toMatchObject({ status: 'active', acknowledgedBy: null, assignedTo: null, snoozedUntil: null })
      expect(((await get(admin(), `/api/alerts/${alertId}/history`)).body as AlertHistoryEntry[]).length).toBe(historyBefore)

      const events = async () => ((await get(admin(), `/api/cases/${f.cases.b}`)).body as { events: unknown[] }).events.length
      const eventsBefore = await events()
      expect((await ask(housing(), 'POST', `/api/cases/${f.cases.b}/notes`, { note: 'not my patch' })).status).toBe(404)
      expect((await ask(housing(), 'POST', `/api/cases/${f.cases.b}/steps`, { step: 'investigated' })).status).toBe(404)
      expect((await ask(housing(), 'POST', `/api/cases/${f.cases.b}/state`, { to: 'cancelled', note: 'x' })).status).toBe(404)
      expect(await events()).toBe(eventsBefore)

      const collections = async () => ((await get(admin(), `/api/collections?deviceId=${f.devices.b.bin}`)).body as unknown[]).length
      const collectedBefore = await collections()
      expect((await ask(crew(), 'POST', `/api/bins/${f.devices.b.bin}/collections`, {})).status).toBe(404)
      expect(await collections()).toBe(collectedBefore)
    })

    it('checks ids named in a body or a query as it checks those in a path', async () => {
      const casesAtB = async () => ((await get(admin(), `/api/cases?site=${SITE.b}`)).body as unknown[]).length
      const before = await casesAtB()
      const opened = (body: object) => ask(housing(), 'POST', '/api/cases', { category: 'significant', hazard: 'damp-mould', ...body })
      expect((await opened({ deviceId: f.devices.b.boiler })).status).toBe(404)
      expect((await opened({ alertId: f.alerts.b.boiler })).status).toBe(404)
      // A site is not an object with an id to hide: refused either way, and nothing is opened.
      expect([403, 404]).toContain((await opened({ site: SITE.b })).status)
      expect(await casesAtB()).toBe(before)

      // Assigning an alert of area A to a team or a person who cannot see it.
      const alertId = await f.newAlert('a', 'bin')
      expect((await ask(crew(), 'POST', `/api/alerts/${alertId}/assign`, { to: `team:crew@${AREA.b}` })).status).toBe(400)
      expect((await ask(crew(), 'POST', `/api/alerts/${alertId}/assign`, { to: `team:housing@${AREA.a}` })).status).toBe(400)
      expect((await ask(crew(), 'POST', `/api/alerts/${alertId}/assign`, { to: `person:${f.caller('housing').id}` })).status).toBe(400)
      expect((await ask(crew(), 'POST', `/api/alerts/${alertId}/assign`, { to: `person:${f.people.b}` })).status).toBe(400)
      expect((await get(admin(), `/api/alerts/${alertId}`)).body).toMatchObject({ assignedTo: null })

      expect((await get(crew(), `/api/collections?deviceId=${f.devices.b.bin}`)).status).toBe(404)
      for (const path of [`/api/devices?site=${SITE.b}`, `/api/alerts?deviceId=${f.devices.b.bin}`, `/api/incidents?site=${SITE.b}`]) {
        const r = await get(crew(), path)
        expect([r.status, r.body], path).toEqual([200, []])
      }
    })

    it('lists only what is in the caller’s scope', async () => {
      const ids = async (caller: Caller, path: string) => ((await get(caller, path)).body as { id: string }[]).map((x) => x.id).sort()
      const d = f.devices
      for (const via of ['session', 'token'] as const) {
        expect(await ids(f.caller('crew', via), '/api/devices')).toEqual([d.a.bin])
        expect(await ids(f.caller('housing', via), '/api/devices')).toEqual([d.a.boiler, d.a.room].sort())
        expect(await ids(f.caller('energy', via), '/api/devices')).toEqual([d.a.meter])
        expect(await ids(f.caller('viewer', via), '/api/devices')).toEqual([d.a.bin, d.a.meter].sort())
      }
      expect((await ids(admin(), '/api/devices')).length).toBe(8)

      const alerts = async (caller: Caller) => (await get(caller, '/api/alerts?limit=1000')).body as Alert[]
      for (const [who, types] of [
        ['crew', ['bin']],
        ['housing', ['boiler', 'room']],
        ['energy', ['meter']],
        ['viewer', ['bin', 'meter']],
      ] as const) {
        const seen = await alerts(f.caller(who))
        expect(seen.length, who).toBeGreaterThan(0)
        for (const a of seen) {
          expect(a.site, who).toBe(SITE.a)
          expect(types as readonly string[], who).toContain(a.deviceType)
        }
        for (const t of types) expect(seen.map((a) => a.id)).toContain(f.alerts.a[t])
      }

      expect(await ids(housing(), '/api/cases')).toEqual(
        ((await get(admin(), `/api/cases?site=${SITE.a}`)).body as { id: string }[]).map((c) => c.id).sort(),
      )
      expect(await ids(housing(), '/api/cases')).toContain(f.cases.a)
      expect(await ids(crew(), '/api/rounds')).toEqual([f.rounds.a])
      expect(await ids(crew(), '/api/incidents')).toEqual([f.incidents.a])
      expect(await ids(crew(), '/api/areas')).toEqual([AREA.a])
      expect(await ids(admin(), '/api/areas')).toEqual([AREA.a, AREA.b])

      // A site's incident groups every kind of device; each caller sees the alerts of their kinds.
      const under = async (caller: Caller) =>
        ((await get(caller, `/api/incidents/${f.incidents.a}`)).body as { alerts: Alert[] }).alerts.map((a) => a.id)
      expect(await under(crew())).toEqual([f.incidentAlerts.a.bin])
      expect(await under(housing())).toEqual([f.incidentAlerts.a.boiler])
      expect((await under(admin())).sort()).toEqual([f.incidentAlerts.a.bin, f.incidentAlerts.a.boiler].sort())
    })

    it('shows people by id to administrators only', async () => {
      for (const caller of nonAdminCallers()) {
        for (const id of [f.people.a, f.people.b, caller.id]) {
          const r = await get(caller, `/api/people/${id}`)
          expect([r.status, r.code], `${caller.name} asking for ${id}`).toEqual([403, 'FORBIDDEN'])
        }
      }
      expect((await get(admin(), `/api/people/${f.people.b}`)).status).toBe(200)
    })
  })

  describe('API2 broken authentication: expired, forged, revoked and cross-role sessions and tokens', () => {
    const refused = async (headers: Record<string, string>, path = '/api/me') => {
      const r = await ask({ headers }, 'GET', path)
      return [r.status, r.code]
    }

    it('refuses a session past its absolute expiry', async () => {
      const p = await signedInPerson(f.registry, [grantOf('crew')], { maxMs: 1 })
      await new Promise((r) => setTimeout(r, 5))
      expect(await refused(p.headers)).toEqual([401, 'UNAUTHENTICATED'])
    })

    it('refuses forged and altered session cookies', async () => {
      const real = crew()
      const token = real.cookie!.split('=')[1]!
      const altered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`
      expect(await refused({ cookie: `sp_session=${randomBytes(32).toString('base64url')}` })).toEqual([401, 'UNAUTHENTICATED'])
      expect(await refused({ cookie: `sp_session=${altered}`, 'x-csrf-token': real.csrf! })).toEqual([401, 'UNAUTHENTICATED'])
      // The real one still works: the refusals were about the cookie, not the person.
      expect((await get(real, '/api/me')).status).toBe(200)
    })

    it('refuses a revoked token from its next request, whether revoked in the store or through the API', async () => {
      const inStore = await apiToken(f.registry, grantOf('crew'))
      expect((await get(inStore, '/api/me')).status).toBe(200)
      await f.registry.tokens.revoke(inStore.id, new Date())
      expect(await refused(inStore.headers)).toEqual([401, 'UNAUTHENTICATED'])

      const viaApi = await apiToken(f.registry, grantOf('energy'))
      expect((await get(viaApi, '/api/devices')).status).toBe(200)
      expect((await ask(admin(), 'POST', `/api/tokens/${viaApi.id}/revoke`)).status).toBe(200)
      expect(await refused(viaApi.headers, '/api/devices')).toEqual([401, 'UNAUTHENTICATED'])
    })

    it('refuses an expired token', async () => {
      const t = await apiToken(f.registry, grantOf('viewer'), { expiresAt: new Date(Date.now() - 1000) })
      expect(await refused(t.headers)).toEqual([401, 'UNAUTHENTICATED'])
    })

    it('does not take a session cookie as a bearer token, nor a token as a session cookie', async () => {
      const person = crew()
      const token = f.caller('crew', 'token')
      expect(await refused({ authorization: `Bearer ${person.cookie!.split('=')[1]}` })).toEqual([401, 'UNAUTHENTICATED'])
      expect(await refused({ cookie: `sp_session=${token.token}` })).toEqual([401, 'UNAUTHENTICATED'])
    })

    it('ends the sessions of a person who is disabled, signs out, or whose grants change', async () => {
      const disabled = await signedInPerson(f.registry, [grantOf('crew')])
      await f.registry.people.setStatus(disabled.id, 'disabled')
      expect(await refused(disabled.headers)).toEqual([401, 'UNAUTHENTICATED'])

      const signedOut = await signedInPerson(f.registry, [grantOf('crew')])
      expect((await ask(signedOut, 'POST', '/api/auth/sign-out')).status).toBe(204)
      expect(await refused(signedOut.headers)).toEqual([401, 'UNAUTHENTICATED'])

      const regranted = await signedInPerson(f.registry, [grantOf('housing')])
      const put = await ask(admin(), 'PUT', `/api/people/${regranted.id}/grants`, { grants: [grantOf('viewer')] })
      expect(put.status).toBe(200)
      expect(await refused(regranted.headers, '/api/cases')).toEqual([401, 'UNAUTHENTICATED'])
    })

    it('refuses a wrong bearer token', async () => {
      expect(await refused({ authorization: `Bearer spt_${randomBytes(32).toString('base64url')}` })).toEqual([401, 'UNAUTHENTICATED'])
    })

    it('refuses a change made with the cookie but without this session’s CSRF token', async () => {
      const alertId = await f.newAlert('a', 'bin')
      const person = crew()
      const other = await signedInPerson(f.registry, [grantOf('crew')])
      const path = `/api/alerts/${alertId}/acknowledge`
      const attempts: Record<string, string>[] = [{ cookie: person.cookie! }, { cookie: person.cookie!, 'x-csrf-token': other.csrf }]
      for (const headers of attempts) {
        const r = await ask({ headers }, 'POST', path, { comment: 'forged' })
        expect([r.status, r.code]).toEqual([403, 'CSRF_INVALID'])
      }
      expect((await get(admin(), `/api/alerts/${alertId}`)).body).toMatchObject({ status: 'active' })
      expect((await ask(person, 'POST', path, { comment: 'mine' })).status).toBe(200)
    })

    it('lets a person who must change a one-time password do nothing else', async () => {
      const p = await signedInPerson(f.registry, [grantOf('admin')], { mustChangePassword: true })
      for (const path of ['/api/devices', '/api/people', '/api/audit']) {
        const r = await get(p, path)
        expect([r.status, r.code], path).toEqual([403, 'PASSWORD_CHANGE_REQUIRED'])
      }
      expect((await get(p, '/api/me')).body).toMatchObject({ mustChangePassword: true })
    })

    it('refuses a token (or person) of one role on another role’s routes', async () => {
      const cases: [Caller, string, string, unknown?][] = [
        [f.caller('crew', 'token'), 'GET', '/api/cases'],
        [f.caller('crew', 'token'), 'POST', '/api/cases', { deviceId: f.devices.a.boiler, category: 'significant', hazard: 'damp-mould' }],
        [f.caller('energy', 'token'), 'GET', `/api/cases/${f.cases.a}`],
        [f.caller('housing', 'token'), 'POST', `/api/bins/${f.devices.a.bin}/collections`, {}],
        [f.caller('housing', 'session'), 'GET', '/api/rounds'],
        [f.caller('energy', 'session'), 'GET', `/api/bins/${f.devices.a.bin}/outlook`],
        [f.caller('viewer', 'token'), 'POST', `/api/alerts/${f.alerts.a.bin}/acknowledge`, {}],
        [f.caller('crew', 'token'), 'POST', '/api/tokens', { name: 'mine', grant: grantOf('admin'), expiresInDays: 1 }],
        [f.caller('housing', 'token'), 'GET', '/api/audit'],
      ]
      for (const [caller, method, path, body] of cases) {
        const r = await ask(caller, method, path, body)
        expect([r.status, r.code], `${caller.name} ${method} ${path}`).toEqual([403, 'FORBIDDEN'])
      }
      // A role's object on a route it may call, but of another role's kind, is not there for it.
      expect((await get(f.caller('crew', 'token'), `/api/devices/${f.devices.a.boiler}`)).status).toBe(404)
      expect((await ask(f.caller('housing', 'token'), 'POST', `/api/alerts/${f.alerts.a.bin}/ack`)).status).toBe(404)
    })
  })

  describe('API3 broken object property level authorisation: only the fields the role may see', () => {
    it('shows a viewer what happened to an alert but not who did it or what they wrote', async () => {
      const alertId = await f.newAlert('a', 'bin')
      const person = crew()
      expect((await ask(person, 'POST', `/api/alerts/${alertId}/acknowledge`, { comment: 'Sam is on it' })).status).toBe(200)
      const assign = await ask(person, 'POST', `/api/alerts/${alertId}/assign`, { to: `person:${person.id}`, note: 'my round' })
      expect(assign.status).toBe(200)

      const seenByCrew = (await get(crew(), `/api/alerts/${alertId}`)).body as Alert
      expect(seenByCrew).toMatchObject({
        acknowledgedBy: person.actor,
        acknowledgedComment: 'Sam is on it',
        assignedTo: `person:${person.id}`,
      })

      for (const v of [viewer(), f.caller('viewer', 'token')]) {
        const one = (await get(v, `/api/alerts/${alertId}`)).body as Alert
        const listed = ((await get(v, '/api/alerts?limit=1000')).body as Alert[]).find((a) => a.id === alertId)
        for (const a of [one, listed]) {
          expect(a, v.name).toMatchObject({ status: 'acknowledged', acknowledgedBy: null, acknowledgedComment: null, assignedTo: null })
        }
        const history = (await get(v, `/api/alerts/${alertId}/history`)).body as AlertHistoryEntry[]
        expect(history.map((e) => e.action)).toEqual(['raised', 'acknowledged', 'assigned'])
        for (const e of history) {
          expect(['system', 'someone']).toContain(e.actor)
          expect([e.note, e.assignedTo]).toEqual([null, null])
        }
        const text = JSON.stringify(history) + JSON.stringify(one)
        for (const secret of [person.id, 'Sam is on it', 'my round']) expect(text).not.toContain(secret)
      }
    })

    it('shows a viewer an override’s effect but not who set it or why', async () => {
      const path = `/api/rules/overrides/device/${f.devices.a.meter}/meter-demand-high`
      const set = await ask(f.caller('admin', 'session'), 'PUT', path, { params: {}, disabled: true, note: 'tenant asked Jo' })
      expect(set.status).toBe(200)
      const effective = (caller: Caller) => get(caller, `/api/rules/effective/${f.devices.a.meter}`)
      const byViewer = (await effective(viewer())).body as { overrides: Record<string, unknown>[]; disabled: string[] }
      expect(byViewer.disabled).toContain('meter-demand-high')
      expect(byViewer.overrides).toHaveLength(1)
      expect(byViewer.overrides[0]).toMatchObject({ updatedBy: 'someone' })
      expect(byViewer.overrides[0]).not.toHaveProperty('note')
      const byEnergy = (await effective(f.caller('energy'))).body as { overrides: Record<string, unknown>[] }
      expect(byEnergy.overrides[0]).toMatchObject({ updatedBy: f.caller('admin', 'session').actor, note: 'tenant asked Jo' })
    })

    it('never shows a UPRN to a role that does not read housing data', async () => {
      for (const who of ['crew', 'energy', 'viewer'] as const) {
        for (const via of ['session', 'token'] as const) {
          const caller = f.caller(who, via)
          for (const path of [
            '/api/devices',
            `/api/devices/${f.devices.a.bin}`,
            '/api/alerts?limit=1000',
            `/api/incidents/${f.incidents.a}`,
          ]) {
            const r = await get(caller, path)
            if (r.status !== 200) continue
            for (const uprn of Object.values(UPRN)) expect(r.text, `${caller.name} ${path}`).not.toContain(uprn)
          }
          const devices = (await get(caller, '/api/devices')).body as { uprn?: string | null }[]
          for (const d of devices) expect(d.uprn ?? null).toBeNull()
        }
      }
      // Those who may see them do: the fixture's UPRNs are there to be hidden.
      expect((await get(housing(), `/api/devices/${f.devices.a.boiler}`)).body).toMatchObject({ uprn: UPRN.boilerA })
      expect((await get(admin(), `/api/devices/${f.devices.a.bin}`)).body).toMatchObject({ uprn: UPRN.binA })
    })

    it('refuses the list of people to everyone but administrators, and never shows a viewer names', async () => {
      for (const caller of nonAdminCallers()) {
        const r = await get(caller, '/api/people')
        expect([r.status, r.code], caller.name).toEqual([403, 'FORBIDDEN'])
      }
      for (const v of [viewer(), f.caller('viewer', 'token')]) expect((await get(v, '/api/people/directory')).status).toBe(403)
      const directory = (await get(crew(), '/api/people/directory')).body as Record<string, unknown>[]
      expect(directory.length).toBeGreaterThan(0)
      for (const entry of directory) expect(Object.keys(entry).sort()).toEqual(['id', 'name'])
    })

    it('shows an administrator people without their password hash or identity-provider subject', async () => {
      const withSecrets = await f.newPerson('a')
      await f.registry.people.setPassword(withSecrets, '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo', false)
      await f.registry.people.linkOidc(withSecrets, 'oidc-subject-4711')
      const keys = Object.keys(Person.shape).sort()
      const people = (await get(admin(), '/api/people')).body as Record<string, unknown>[]
      const one = (await get(admin(), `/api/people/${withSecrets}`)).body as Record<string, unknown>
      const invited = (
        await ask(admin(), 'POST', '/api/people', {
          email: `new-${randomUUID()}@council.example`,
          name: 'New',
          grants: [grantOf('viewer')],
        })
      ).body as { person: Record<string, unknown> }
      const regranted = (await ask(admin(), 'PUT', `/api/people/${withSecrets}/grants`, { grants: [grantOf('energy')] })).body as Record<
        string,
        unknown
      >
      for (const p of [...people, one, invited.person, regranted]) {
        expect(Object.keys(p).sort()).toEqual(keys)
        expect(p).not.toHaveProperty('passwordHash')
        expect(p).not.toHaveProperty('oidcSubject')
      }
      expect(one).toMatchObject({ sso: true })
      const text = JSON.stringify([people, one, invited, regranted])
      expect(text).not.toContain('$argon2')
      expect(text).not.toContain('oidc-subject-4711')
    })

    it('shows an API token once, and afterwards only what it is', async () => {
      const created = await ask(admin(), 'POST', '/api/tokens', { name: 'telemetry export', grant: grantOf('viewer'), expiresInDays: 7 })
      expect(created.status).toBe(201)
      const { token } = created.body as { token: string }
      expect(token).toMatch(/^spt_/)
      const listed = await get(admin(), '/api/tokens')
      expect(listed.text).not.toContain(token)
      const keys = Object.keys(ApiToken.shape).sort()
      for (const t of listed.body as Record<string, unknown>[]) expect(Object.keys(t).sort()).toEqual(keys)
      expect((await get(admin(), '/api/audit?limit=500')).text).not.toContain(token)
    })
  })

  describe('API4 unrestricted resource consumption: page-size caps and rate limits', () => {
    it('refuses pages larger than the cap on every listing', async () => {
      const listings = [
        '/api/devices',
        '/api/alerts',
        '/api/incidents',
        '/api/cases',
        '/api/collections',
        '/api/quarantine',
        '/api/audit',
        '/api/rules/overrides/history',
      ]
      for (const path of listings) {
        const r = await get(admin(), `${path}?limit=100000`)
        expect([r.status, r.code], path).toEqual([400, 'BAD_REQUEST'])
      }
      expect((await get(admin(), '/api/audit?limit=501')).status).toBe(400)
    })

    it('refuses reading queries over the point and range caps', async () => {
      const now = Date.now()
      const daysAgo = (d: number) => new Date(now - d * 86_400_000).toISOString()
      const to = new Date(now).toISOString()
      const queries: Record<string, string>[] = [
        // 30 days a second at a time: 2.6 million points.
        { from: daysAgo(30), to, every: '1s' },
        // Over a year.
        { from: daysAgo(400), to, every: '1d' },
        // Over a week of raw readings.
        { from: daysAgo(8), to },
      ]
      for (const q of queries) {
        const r = await get(crew(), `/api/devices/${f.devices.a.bin}/readings?${new URLSearchParams(q)}`)
        expect([r.status, r.code], JSON.stringify(q)).toEqual([400, 'BAD_REQUEST'])
      }
    })

    it('refuses a body over 64 KiB', async () => {
      const alertId = await f.newAlert('a', 'bin')
      const res = await call(f.svc, crew(), 'POST', `/api/alerts/${alertId}/resolve`, { note: 'x'.repeat(70 * 1024) })
      expect(res.status).toBe(413)
      await res.arrayBuffer()
    })

    it('answers 429 with Retry-After once a heavy route’s budget is spent', async () => {
      const caller = f.caller('admin', 'token')
      for (let i = 0; i < REPLAY_LIMIT.max; i++) {
        expect((await ask(caller, 'POST', '/api/quarantine/replay', {})).status, `replay ${i + 1}`).toBe(200)
      }
      const res = await call(f.svc, caller, 'POST', '/api/quarantine/replay', {})
      expect(res.status).toBe(429)
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED')
    })
  })

  describe('API5 broken function level authorisation: viewers and crews on admin and write routes', () => {
    it('refuses administrative routes to viewers and crews, and changes nothing', async () => {
      const callers = (['viewer', 'crew'] as const).flatMap((w) => [f.caller(w, 'session'), f.caller(w, 'token')])
      for (const caller of callers) {
        const n = f.unique()
        const self = caller.id!
        const routes: [string, string, unknown?][] = [
          ['POST', '/api/devices', { id: `sneaky-${n}`, type: 'bin', name: 'Sneaky', site: SITE.a }],
          ['DELETE', `/api/devices/${f.devices.a.bin}`],
          ['GET', '/api/quarantine'],
          ['POST', '/api/quarantine/replay', {}],
          ['POST', '/api/tokens', { name: `escalate ${n}`, grant: grantOf('admin'), expiresInDays: 1 }],
          ['GET', '/api/tokens'],
          ['GET', '/api/audit'],
          ['PUT', `/api/areas/sneaky-${n}`, { name: 'Sneaky', kind: 'other', sites: [SITE.b] }],
          ['PUT', `/api/areas/${AREA.a}`, { name: 'Area A', kind: 'ward', sites: [SITE.a, SITE.b] }],
          ['POST', '/api/people', { email: `sneaky-${n}@council.example`, name: 'Sneaky', grants: [grantOf('admin')] }],
          ['PUT', `/api/people/${self}/grants`, { grants: [grantOf('admin')] }],
          ['POST', `/api/people/${f.people.a}/disable`],
          ['POST', '/api/rounds', { name: 'Sneaky round', site: SITE.a, schedule: { weekdays: [1] } }],
          ['PUT', `/api/rules/overrides/site/${SITE.a}/bin-full`, { disabled: true }],
          ['GET', '/metrics'],
        ]
        for (const [method, path, body] of routes) {
          const r = await ask(caller, method, path, body)
          expect([r.status, r.code], `${caller.name} ${method} ${path}`).toEqual([403, 'FORBIDDEN'])
        }
        expect((await get(admin(), `/api/devices/sneaky-${n}`)).status).toBe(404)
        expect((await get(admin(), `/api/areas/sneaky-${n}`)).status).toBe(404)
      }
      expect((await get(admin(), `/api/devices/${f.devices.a.bin}`)).status).toBe(200)
      expect((await get(admin(), `/api/areas/${AREA.a}`)).body).toMatchObject({ sites: [SITE.a] })
      expect((await get(admin(), `/api/people/${f.people.a}`)).body).toMatchObject({ status: 'active' })
      expect((await get(admin(), `/api/rules/overrides?scope=site&target=${SITE.a}`)).body).toEqual([])
      for (const caller of callers) {
        const p = caller.via === 'session' ? await f.registry.people.get(caller.id!) : await f.registry.tokens.get(caller.id!)
        expect(JSON.stringify(p && ('grants' in p ? p.grants : [p.grant]))).not.toContain('"admin"')
      }
    })

    it('refuses every write to a viewer, whatever the object', async () => {
      for (const v of [viewer(), f.caller('viewer', 'token')]) {
        const alertId = await f.newAlert('a', 'bin')
        const writes: [string, unknown?][] = [
          [`/api/alerts/${alertId}/ack`],
          [`/api/alerts/${alertId}/acknowledge`, { comment: 'seen' }],
          [`/api/alerts/${alertId}/assign`, { to: `team:crew@${AREA.a}` }],
          [`/api/alerts/${alertId}/snooze`, { until: new Date(Date.now() + 3_600_000).toISOString() }],
          [`/api/alerts/${alertId}/resolve`, { note: 'done' }],
          [`/api/bins/${f.devices.a.bin}/collections`, {}],
          ['/api/cases', { deviceId: f.devices.a.boiler, category: 'emergency', hazard: 'no-heat' }],
          [`/api/cases/${f.cases.a}/notes`, { note: 'x' }],
        ]
        for (const [path, body] of writes) {
          const r = await ask(v, 'POST', path, body)
          expect([r.status, r.code], `${v.name} POST ${path}`).toEqual([403, 'FORBIDDEN'])
        }
        expect((await get(admin(), `/api/alerts/${alertId}`)).body).toMatchObject({ status: 'active', acknowledgedBy: null })
      }
    })
  })
})
