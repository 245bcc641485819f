import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { CaseDetail, CaseView, Rule } from '#devices'
import { createDatabase } from '../../scripts/postgres.ts'
import type { Registry } from '../../store/registry.ts'
import { apiToken, type Caller, putArea, signedInPerson } from '../helpers/people.ts'
import { startService, type TestService } from '../helpers/service.ts'

interface RoundAnswer {
  id: string
  site: string | null
  deviceIds: string[]
}
interface CollectionAnswer {
  deviceId: string
  actor: string
  source: string
}

// The listings filter in SQL, so the whole suite runs on both stores.
describe.each(['sqlite', 'postgres'] as const)('object-level access to cases, rounds, bins and rules, on %s', (store) => {
  let svc: TestService
  let registry: Registry
  let dropDb: (() => Promise<void>) | null = null
  let housingA: Caller
  let housingAll: Caller
  let crewA: Caller
  let crewToken: Caller
  let viewer: Caller
  let adminPerson: Caller
  let caseA: CaseDetail
  let caseB: CaseDetail
  /** At site-a, but about a boiler at site-b: made straight in the store, as no route would. */
  let straddling: string
  let siteless: string

  const call = (who: Caller | null, method: string, path: string, body?: unknown) =>
    fetch(`${svc.url}${path}`, {
      method,
      headers: { ...(who?.headers ?? {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  const admin = (method: string, path: string, body?: unknown) =>
    svc.api(path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
  const ok = async <T>(res: Response, status = 200): Promise<T> => {
    const text = await res.text()
    expect(res.status, text).toBe(status)
    return JSON.parse(text) as T
  }
  /** The answer with the id asked for taken out: an object outside the scope must read exactly like a missing one. */
  const answerOf = async (res: Response, id: string) => ({ status: res.status, body: (await res.text()).replaceAll(id, '<id>') })
  const caseStub = (site: string | null, deviceId: string | null) =>
    registry.cases.create({
      alertId: null,
      deviceId,
      site,
      category: 'significant',
      hazard: 'damp-mould',
      triagedAt: Date.now() - 60_000,
      preventativeRequired: true,
      createdBy: 'admin-token',
      now: Date.now(),
    })

  beforeAll(async () => {
    let env: Record<string, string> = {}
    if (store === 'postgres') {
      const db = await createDatabase(inject('postgresUrl'))
      dropDb = db.drop
      env = { DATABASE_URL: db.url }
    }
    svc = await startService(env)
    registry = svc.service.registry
    await putArea(registry, { id: 'area-a', name: 'A', kind: 'ward', sites: ['site-a'] })
    await putArea(registry, { id: 'area-b', name: 'B', kind: 'ward', sites: ['site-b'] })
    for (const s of ['a', 'b']) {
      await svc.provision({ id: `bin-${s}1`, type: 'bin', site: `site-${s}` })
      await svc.provision({ id: `boiler-${s}1`, type: 'boiler', site: `site-${s}` })
      await ok(
        await admin('POST', '/api/rounds', { id: `round-${s}`, name: `Round ${s}`, site: `site-${s}`, schedule: { weekdays: [1] } }),
        201,
      )
      await ok(await admin('PUT', `/api/rounds/round-${s}/bins`, { deviceIds: [`bin-${s}1`] }))
    }
    // A bin of site-b on round A: a crew of A sees the round, not that bin.
    await svc.provision({ id: 'bin-b2', type: 'bin', site: 'site-b' })
    await ok(await admin('PUT', '/api/rounds/round-a/bins', { deviceIds: ['bin-a1', 'bin-b2'] }))
    caseA = await ok(await admin('POST', '/api/cases', { deviceId: 'boiler-a1', category: 'significant', hazard: 'damp-mould' }), 201)
    caseB = await ok(await admin('POST', '/api/cases', { deviceId: 'boiler-b1', category: 'emergency', hazard: 'no-heat' }), 201)
    const s1 = await caseStub('site-a', 'boiler-b1')
    const s2 = await caseStub(null, null)
    if (!s1.ok || !s2.ok) throw new Error('could not make the stub cases')
    straddling = s1.record.case.id
    siteless = s2.record.case.id

    housingA = await signedInPerson(registry, [{ role: 'housing', areas: ['area-a'] }])
    housingAll = await signedInPerson(registry, [{ role: 'housing', areas: null }])
    crewA = await signedInPerson(registry, [{ role: 'crew', areas: ['area-a'] }])
    crewToken = await apiToken(registry, { role: 'crew', areas: ['area-a'] })
    viewer = await signedInPerson(registry, [{ role: 'viewer', areas: null }])
    adminPerson = await signedInPerson(registry, [{ role: 'admin', areas: null }])
  })
  afterAll(async () => {
    await svc?.close()
    await dropDb?.()
  })

  describe('cases', () => {
    it("lists to a housing officer only the cases of their area's sites", async () => {
      const mine = await ok<CaseView[]>(await call(housingA, 'GET', '/api/cases'))
      expect(mine.map((c) => c.id)).toEqual([caseA.id])
      expect(await ok<CaseView[]>(await call(housingA, 'GET', '/api/cases?site=site-b'))).toEqual([])
      expect(await ok<CaseView[]>(await call(housingA, 'GET', '/api/cases?deviceId=boiler-b1'))).toEqual([])
      // Every area: every case, also the one with no site and the one whose device is elsewhere.
      const all = await ok<CaseView[]>(await call(housingAll, 'GET', '/api/cases'))
      expect(all.map((c) => c.id).sort()).toEqual([caseA.id, caseB.id, straddling, siteless].sort())
    })

    it('answers a case of another area, one with no site, or one whose device is elsewhere exactly like a missing one', async () => {
      const missing = randomUUID()
      const none = await answerOf(await call(housingA, 'GET', `/api/cases/${missing}`), missing)
      expect(none.status).toBe(404)
      expect(JSON.parse(none.body)).toMatchObject({ error: { code: 'NOT_FOUND' } })
      for (const id of [caseB.id, siteless, straddling]) {
        expect(await answerOf(await call(housingA, 'GET', `/api/cases/${id}`), id)).toEqual(none)
      }
      const step = { step: 'investigated' }
      const stepNone = await answerOf(await call(housingA, 'POST', `/api/cases/${missing}/steps`, step), missing)
      expect(stepNone.status).toBe(404)
      expect(await answerOf(await call(housingA, 'POST', `/api/cases/${caseB.id}/steps`, step), caseB.id)).toEqual(stepNone)
      const state = { to: 'no-hazard', note: 'looked, nothing there' }
      expect((await call(housingA, 'POST', `/api/cases/${caseB.id}/state`, state)).status).toBe(404)
      expect((await call(housingA, 'POST', `/api/cases/${caseB.id}/notes`, { note: 'seen' })).status).toBe(404)
      // Nothing was done to it.
      const b = await ok<CaseDetail>(await admin('GET', `/api/cases/${caseB.id}`))
      expect(b.state).toBe('open')
      expect(b.events.map((e) => e.kind)).toEqual(['opened'])
      expect(await ok<CaseDetail>(await call(housingAll, 'GET', `/api/cases/${siteless}`))).toMatchObject({ id: siteless, site: null })
    })

    it('lets a housing officer act on a case of their area, in their name, and audits it without the notes', async () => {
      const stepped = await ok<CaseDetail>(
        await call(housingA, 'POST', `/api/cases/${caseA.id}/steps`, { step: 'investigated', note: 'mould behind the wardrobe' }),
      )
      expect(stepped.state).toBe('investigated')
      expect(stepped.events.at(-1)).toMatchObject({ kind: 'step-recorded', actor: housingA.actor })
      await ok(await call(housingA, 'POST', `/api/cases/${caseA.id}/notes`, { note: 'resident phoned back' }), 201)
      const opened = await ok<CaseDetail>(
        await call(housingA, 'POST', '/api/cases', { deviceId: 'boiler-a1', category: 'emergency', hazard: 'excess-cold' }),
        201,
      )
      expect(opened).toMatchObject({ site: 'site-a', createdBy: housingA.actor })

      const entries = await registry.audit.list({ action: 'case-action', actor: housingA.actor })
      expect(entries.map((e) => [e.target, e.detail])).toEqual([
        [`case:${opened.id}`, { action: 'open' }],
        [`case:${caseA.id}`, { action: 'note', kind: 'note' }],
        [`case:${caseA.id}`, { action: 'step', step: 'investigated' }],
      ])
      expect(JSON.stringify(entries)).not.toContain('wardrobe')
      expect(JSON.stringify(entries)).not.toContain('phoned')
      // The admin token's own actions are audited too, under its own name.
      const byAdmin = await registry.audit.list({ action: 'case-action', actor: 'admin-token' })
      expect(byAdmin.map((e) => e.target)).toEqual(expect.arrayContaining([`case:${caseA.id}`, `case:${caseB.id}`]))
    })

    it("refuses to open a case for another area's device (404) or site (403)", async () => {
      const body = { category: 'significant', hazard: 'damp-mould' }
      const device = await call(housingA, 'POST', '/api/cases', { ...body, deviceId: 'boiler-b1' })
      const unknown = await call(housingA, 'POST', '/api/cases', { ...body, deviceId: 'boiler-zz' })
      expect(await answerOf(device, 'boiler-b1')).toEqual(await answerOf(unknown, 'boiler-zz'))
      expect(device.status).toBe(404)
      const site = await call(housingA, 'POST', '/api/cases', { ...body, site: 'site-b' })
      expect(site.status).toBe(403)
      expect(((await site.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN')
      // A bin is not housing data: a housing officer cannot see it, so cannot open a case on it.
      expect((await call(housingA, 'POST', '/api/cases', { ...body, deviceId: 'bin-a1' })).status).toBe(404)
      expect((await registry.cases.list({ site: 'site-b' })).map((r) => r.case.id)).toEqual([caseB.id])
    })

    it('refuses crews and viewers on every case route', async () => {
      const routes: [string, string, unknown?][] = [
        ['GET', '/api/cases'],
        ['GET', `/api/cases/${caseA.id}`],
        ['POST', '/api/cases', { deviceId: 'boiler-a1', category: 'significant', hazard: 'damp-mould' }],
        ['POST', `/api/cases/${caseA.id}/steps`, { step: 'summarySent' }],
        ['POST', `/api/cases/${caseA.id}/state`, { to: 'cancelled', note: 'no' }],
        ['POST', `/api/cases/${caseA.id}/notes`, { note: 'hello' }],
      ]
      for (const who of [crewA, crewToken, viewer]) {
        for (const [method, path, body] of routes) {
          const res = await call(who, method, path, body)
          expect({ who: who.actor, method, path, status: res.status }).toEqual({ who: who.actor, method, path, status: 403 })
        }
      }
    })
  })

  describe('rounds and bins', () => {
    it("shows a crew their area's round and not another's", async () => {
      const rounds = await ok<RoundAnswer[]>(await call(crewA, 'GET', '/api/rounds'))
      expect(rounds.map((r) => [r.id, r.deviceIds])).toEqual([['round-a', ['bin-a1']]])
      expect(await ok<RoundAnswer>(await call(crewToken, 'GET', '/api/rounds/round-a'))).toMatchObject({ id: 'round-a', site: 'site-a' })
      const other = await answerOf(await call(crewA, 'GET', '/api/rounds/round-b'), 'round-b')
      expect(other.status).toBe(404)
      expect(other).toEqual(await answerOf(await call(crewA, 'GET', '/api/rounds/round-zz'), 'round-zz'))
      // A housing officer reads no waste data at all.
      expect((await call(housingA, 'GET', '/api/rounds')).status).toBe(403)
      expect(await ok<RoundAnswer>(await call(crewA, 'GET', '/api/rounds/round-a'))).toMatchObject({ deviceIds: ['bin-a1'] })
      expect((await ok<RoundAnswer[]>(await admin('GET', '/api/rounds'))).map((r) => [r.id, r.deviceIds])).toEqual([
        ['round-a', ['bin-a1', 'bin-b2']],
        ['round-b', ['bin-b1']],
      ])
    })

    it("lets a crew mark their area's bins collected, in their name, and no one else's", async () => {
      const mark = await ok<CollectionAnswer>(await call(crewA, 'POST', '/api/bins/bin-a1/collections', { levelBefore: 0.8 }), 201)
      expect(mark).toMatchObject({ deviceId: 'bin-a1', actor: crewA.actor, source: 'manual' })
      const other = await answerOf(await call(crewA, 'POST', '/api/bins/bin-b1/collections', {}), 'bin-b1')
      expect(other.status).toBe(404)
      expect(other).toEqual(await answerOf(await call(crewA, 'POST', '/api/bins/bin-zz/collections', {}), 'bin-zz'))
      expect((await call(crewA, 'POST', '/api/bins/boiler-a1/collections', {})).status).toBe(404)
      expect((await call(viewer, 'POST', '/api/bins/bin-a1/collections', {})).status).toBe(403)
      // The admin marks the other area's bin, which the crew must not then see in listings.
      await ok(await admin('POST', '/api/bins/bin-b1/collections', { levelBefore: 0.1 }), 201)

      const listed = await ok<CollectionAnswer[]>(await call(crewA, 'GET', '/api/collections'))
      expect(listed.map((c) => c.deviceId)).toEqual(['bin-a1'])
      // A viewer sees that a bin was marked, not by whom; nor who set up its round.
      const seen = await ok<CollectionAnswer[]>(await call(viewer, 'GET', '/api/collections?deviceId=bin-a1'))
      expect(seen.map((c) => [c.source, c.actor])).toEqual([['manual', 'someone']])
      const round = await ok<{ createdBy: string; updatedBy: string }>(await call(viewer, 'GET', '/api/rounds/round-a'))
      expect([round.createdBy, round.updatedBy]).toEqual(['someone', 'someone'])
      expect(await ok<{ createdBy: string }>(await call(crewA, 'GET', '/api/rounds/round-a'))).toMatchObject({ createdBy: 'admin-token' })
      expect((await call(crewA, 'GET', '/api/collections?deviceId=bin-b1')).status).toBe(404)
      expect((await call(crewA, 'GET', '/api/collections?roundId=round-b')).status).toBe(200)
      expect(await ok(await call(crewA, 'GET', '/api/collections?roundId=round-b'))).toEqual([])
      expect((await ok<CollectionAnswer[]>(await admin('GET', '/api/collections'))).map((c) => c.deviceId).sort()).toEqual([
        'bin-a1',
        'bin-b1',
      ])
      const summary = await ok<{ rounds: { roundId: string | null; collections: number; wasted: number }[] }>(
        await call(crewA, 'GET', '/api/collections/summary'),
      )
      expect(summary.rounds).toEqual([{ roundId: 'round-a', name: 'Round a', collections: 1, wasted: 0 }])
      const whole = await ok<typeof summary>(await admin('GET', '/api/collections/summary'))
      expect(whole.rounds.map((r) => [r.roundId, r.collections, r.wasted])).toEqual([
        ['round-a', 1, 0],
        ['round-b', 1, 1],
      ])
    })

    it("answers another area's bin schedule, or a boiler's, as no bin", async () => {
      expect(await ok(await call(crewA, 'GET', '/api/bins/bin-a1/schedule'))).toMatchObject({ deviceId: 'bin-a1', roundId: 'round-a' })
      const other = await answerOf(await call(crewA, 'GET', '/api/bins/bin-b1/schedule'), 'bin-b1')
      expect(other.status).toBe(404)
      expect(other).toEqual(await answerOf(await call(crewA, 'GET', '/api/bins/bin-zz/schedule'), 'bin-zz'))
      expect((await call(crewA, 'GET', '/api/bins/boiler-a1/schedule')).status).toBe(404)
      // Schedules and rounds are set by administrators only.
      expect((await call(crewA, 'PUT', '/api/bins/bin-a1/schedule', { weekdays: [2] })).status).toBe(403)
      expect((await call(crewA, 'PUT', '/api/rounds/round-a/bins', { deviceIds: [] })).status).toBe(403)
    })
  })

  describe('rules', () => {
    it('lists to a crew the rules of the types they read, never boilers or rooms', async () => {
      const types = (await ok<{ type: string; rules: Rule[] }[]>(await call(crewA, 'GET', '/api/rules'))).map((t) => t.type)
      expect(types).toContain('bin')
      expect(types).not.toContain('boiler')
      expect(types).not.toContain('room')
      const housing = (await ok<{ type: string }[]>(await call(housingA, 'GET', '/api/rules'))).map((t) => t.type)
      expect(housing).toEqual(expect.arrayContaining(['boiler', 'room']))
      expect(housing).not.toContain('bin')
      const everything = (await ok<{ type: string }[]>(await admin('GET', '/api/rules'))).map((t) => t.type)
      expect(everything).toEqual(expect.arrayContaining(['bin', 'boiler', 'room', 'meter', 'weather']))
    })

    it("answers a crew's ask for a boiler's or another area's bin's effective rules as no device", async () => {
      expect(await ok(await call(crewA, 'GET', '/api/rules/effective/bin-a1'))).toMatchObject({ device: { id: 'bin-a1' } })
      const none = await answerOf(await call(crewA, 'GET', '/api/rules/effective/bin-zz'), 'bin-zz')
      expect(none.status).toBe(404)
      expect(await answerOf(await call(crewA, 'GET', '/api/rules/effective/boiler-a1'), 'boiler-a1')).toEqual(none)
      expect(await answerOf(await call(crewA, 'GET', '/api/rules/effective/bin-b1'), 'bin-b1')).toEqual(none)
    })

    it('audits setting and removing an override under the caller, and hides who set it from a viewer', async () => {
      const path = '/api/rules/overrides/device/bin-a1/bin-full'
      const setBody = { params: { raiseAt: 0.6, clearAt: 0.3 }, note: 'set by the depot manager' }
      await ok(await call(adminPerson, 'PUT', path, setBody))
      expect((await call(crewA, 'PUT', path, setBody)).status).toBe(403)
      const seen = await ok<{ overrides: { updatedBy: string; note?: string }[] }>(await call(viewer, 'GET', '/api/rules/effective/bin-a1'))
      expect(seen.overrides).toEqual([expect.objectContaining({ updatedBy: 'someone' })])
      expect(seen.overrides[0]).not.toHaveProperty('note')
      const crewSees = await ok<{ overrides: { updatedBy: string }[] }>(await call(crewA, 'GET', '/api/rules/effective/bin-a1'))
      expect(crewSees.overrides).toEqual([expect.objectContaining({ updatedBy: adminPerson.actor, note: setBody.note })])
      await ok(await admin('DELETE', path))

      const entries = await registry.audit.list({ action: 'rule-override' })
      expect(entries.map((e) => [e.actor, e.target, e.detail])).toEqual([
        ['admin-token', 'device/bin-a1/bin-full', { action: 'removed' }],
        [adminPerson.actor, 'device/bin-a1/bin-full', { action: 'set' }],
      ])
    })
  })
})
