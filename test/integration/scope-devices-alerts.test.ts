import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { Alert, AlertChanged, AlertHistoryEntry, AuditEntry, Device, Incident } from '#devices'
import { createDatabase } from '../../scripts/postgres.ts'
import { binReading } from '../helpers/load.ts'
import { apiToken, type Caller, putArea, signedInPerson } from '../helpers/people.ts'
import { connectDevice, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'

// Issue 10, items 5 and 7 (acceptance 1 and 2): devices, alerts, incidents and bin outlooks
// by id and in listings, for every role, in and out of its areas; who acted; the audit trail.
// Listings are filtered in SQL: both dialects.
describe.each(['sqlite', 'postgres'] as const)('devices, alerts and incidents seen and acted on within a scope, on %s', (store) => {
  let svc: TestService
  let dropDb: (() => Promise<void>) | null = null
  const UPRN = '100023336956'
  const alertOf: Record<string, Alert> = {}
  let incidentA: Incident
  let incidentB: Incident
  let crewA: Caller
  let crewToken: Caller
  let housingA: Caller
  let energy: Caller
  let viewer: Caller
  let viewerA: Caller
  let admin: Caller

  type Answer<T> = { status: number; body: T }
  const call = async <T>(who: Caller, path: string, init: { method?: string; body?: unknown } = {}): Promise<Answer<T>> => {
    const res = await fetch(`${svc.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { ...who.headers, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    })
    const text = await res.text()
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T }
  }
  const ok = async <T>(who: Caller, path: string) => {
    const r = await call<T>(who, path)
    expect(r.status, path).toBe(200)
    return r.body
  }
  const ids = (xs: { id: string }[]) => xs.map((x) => x.id).sort()
  const alertIds = (...devices: string[]) => devices.map((d) => alertOf[d]!.id).sort()

  /** An object outside the caller's scope answers exactly as a missing one: 404, same body but for the id asked. */
  const hiddenLikeMissing = async (who: Caller, path: (id: string) => string, hidden: string, missing: string) => {
    const [h, m] = [await call<unknown>(who, path(hidden)), await call<unknown>(who, path(missing))]
    expect([h.status, m.status], path(hidden)).toEqual([404, 404])
    expect(JSON.stringify(h.body).replaceAll(hidden, '<id>')).toBe(JSON.stringify(m.body).replaceAll(missing, '<id>'))
    expect(h.body).toMatchObject({ error: { code: 'NOT_FOUND' } })
  }
  const auditOf = (action: AuditEntry['action']) => svc.service.registry.audit.list({ action, limit: 1000 })

  beforeAll(async () => {
    let env: Record<string, string> = {}
    if (store === 'postgres') {
      const db = await createDatabase(inject('postgresUrl'))
      dropDb = db.drop
      env = { DATABASE_URL: db.url }
    }
    svc = await startService(env)
    expect(svc.service.registry.dialect).toBe(store)
    const { registry } = svc.service
    admin = { headers: { authorization: `Bearer ${svc.token}` }, actor: 'admin-token', id: 'admin-token' }
    await putArea(registry, { id: 'area-a', name: 'A', kind: 'ward', sites: ['site-a'] })
    await putArea(registry, { id: 'area-b', name: 'B', kind: 'ward', sites: ['site-b'] })
    const binA = await svc.provision({ id: 'bin-a', type: 'bin', site: 'site-a' })
    const binB = await svc.provision({ id: 'bin-b', type: 'bin', site: 'site-b' })
    await svc.provision({ id: 'boiler-a', type: 'boiler', site: 'site-a', uprn: UPRN })
    await svc.provision({ id: 'boiler-b', type: 'boiler', site: 'site-b', uprn: '100023336957' })
    // A weather station on an estate's roof, with the block's UPRN: environment data any role reads, but the UPRN is housing data.
    await svc.provision({ id: 'weather-a', type: 'weather', site: 'site-a', uprn: '100023336958' })

    // Real alerts: two readings of a nearly full bin raise bin-full.
    const t0 = Date.now() - 10_000
    for (const bin of [binA, binB]) {
      const device = await connectDevice(svc.mqttUrl, bin.id, bin.secret)
      await device.publishAsync(telemetryTopic(bin), binReading(t0, 0.97), { qos: 1 })
      await device.publishAsync(telemetryTopic(bin), binReading(t0 + 1000, 0.97), { qos: 1 })
      await device.endAsync()
    }
    for (const id of ['bin-a', 'bin-b']) {
      alertOf[id] = await waitFor(async () => {
        const alerts = (await (await svc.api(`/api/alerts?deviceId=${id}`)).json()) as Alert[]
        return alerts.find((a) => a.ruleId === 'bin-full')
      })
    }
    // Site A went quiet; its boiler's offline alert is grouped under the site's incident.
    incidentA = await registry.incidents.open('site-a', Date.now(), 2)
    incidentB = await registry.incidents.open('site-b', Date.now(), 2)
    const offline = await registry.alerts.raise({
      deviceId: 'boiler-a',
      deviceType: 'boiler',
      site: 'site-a',
      rule: { id: 'device-offline', title: 'Device offline', severity: 'warning' },
      value: 0,
      incidentId: incidentA.id,
      ts: Date.now(),
    })
    alertOf['boiler-a'] = offline!

    crewA = await signedInPerson(registry, [{ role: 'crew', areas: ['area-a'] }], { name: 'Alex Crew' })
    crewToken = await apiToken(registry, { role: 'crew', areas: ['area-a'] }, { name: 'round planner' })
    housingA = await signedInPerson(registry, [{ role: 'housing', areas: ['area-a'] }])
    energy = await signedInPerson(registry, [{ role: 'energy', areas: null }])
    viewer = await signedInPerson(registry, [{ role: 'viewer', areas: null }])
    viewerA = await signedInPerson(registry, [{ role: 'viewer', areas: ['area-a'] }])
  })
  afterAll(async () => {
    await svc?.close()
    await dropDb?.()
  })

  it('lists only the devices, alerts and incidents of the caller’s roles and areas', async () => {
    expect(ids(await ok<Device[]>(crewA, '/api/devices'))).toEqual(['bin-a', 'weather-a'])
    expect(ids(await ok<Alert[]>(crewA, '/api/alerts'))).toEqual(alertIds('bin-a'))
    expect(ids(await ok<Alert[]>(crewA, '/api/alerts?site=site-b'))).toEqual([])
    expect(ids(await ok<Incident[]>(crewA, '/api/incidents'))).toEqual([incidentA.id])

    const housing = await ok<Device[]>(housingA, '/api/devices')
    expect(ids(housing)).toEqual(['boiler-a', 'weather-a'])
    expect(housing.find((d) => d.id === 'boiler-a')).toMatchObject({ uprn: UPRN })
    expect(housing.find((d) => d.id === 'weather-a')).toMatchObject({ uprn: '100023336958' })
    expect(ids(await ok<Alert[]>(housingA, '/api/alerts'))).toEqual(alertIds('boiler-a'))

    // A UPRN is housing data: a crew sees the weather station but not the home it sits on.
    expect((await ok<Device>(crewA, '/api/devices/weather-a')).uprn).toBeNull()
    expect((await ok<Device[]>(crewA, '/api/devices')).every((d) => d.uprn === null)).toBe(true)

    // Energy reads meters and weather: no bin, no boiler, no alert of theirs.
    expect(ids(await ok<Device[]>(energy, '/api/devices'))).toEqual(['weather-a'])
    expect(await ok<Alert[]>(energy, '/api/alerts')).toEqual([])

    // A viewer sees bins everywhere only when granted everywhere, and never a boiler.
    expect(ids(await ok<Device[]>(viewer, '/api/devices'))).toEqual(['bin-a', 'bin-b', 'weather-a'])
    expect(ids(await ok<Alert[]>(viewer, '/api/alerts'))).toEqual(alertIds('bin-a', 'bin-b'))
    expect(ids(await ok<Device[]>(viewerA, '/api/devices'))).toEqual(['bin-a', 'weather-a'])
    expect(ids(await ok<Alert[]>(viewerA, '/api/alerts'))).toEqual(alertIds('bin-a'))

    const all = await ok<Device[]>(admin, '/api/devices')
    expect(ids(all)).toEqual(['bin-a', 'bin-b', 'boiler-a', 'boiler-b', 'weather-a'])
    expect(all.find((d) => d.id === 'boiler-b')).toMatchObject({ uprn: '100023336957' })
    expect(ids(await ok<Alert[]>(admin, '/api/alerts'))).toEqual(alertIds('bin-a', 'bin-b', 'boiler-a'))
    expect(ids(await ok<Incident[]>(admin, '/api/incidents'))).toEqual([incidentA.id, incidentB.id].sort())
  })

  it('pages the device list by id, at most 1000 a page', async () => {
    const first = await ok<Device[]>(admin, '/api/devices?limit=2')
    expect(first.map((d) => d.id)).toEqual(['bin-a', 'bin-b'])
    expect((await ok<Device[]>(admin, '/api/devices?limit=2&after=bin-b')).map((d) => d.id)).toEqual(['boiler-a', 'boiler-b'])
    expect((await ok<Device[]>(crewA, '/api/devices?after=bin-a')).map((d) => d.id)).toEqual(['weather-a'])
    expect((await call(admin, '/api/devices?limit=1001')).status).toBe(400)
    expect((await call(admin, '/api/devices?limit=0')).status).toBe(400)
    expect((await call(admin, '/api/alerts?limit=1001')).status).toBe(400)
  })

  it('answers 404 for another area’s or role’s objects exactly as for missing ones', async () => {
    const missingAlert = randomUUID()
    const binB = alertOf['bin-b']!.id
    const boilerA = alertOf['boiler-a']!.id
    for (const hidden of ['bin-b', 'boiler-a', 'boiler-b']) {
      await hiddenLikeMissing(crewA, (id) => `/api/devices/${id}`, hidden, 'no-such-device')
      await hiddenLikeMissing(crewA, (id) => `/api/devices/${id}/readings`, hidden, 'no-such-device')
    }
    await hiddenLikeMissing(crewA, (id) => `/api/bins/${id}/outlook`, 'bin-b', 'no-such-bin')
    for (const hidden of [binB, boilerA]) {
      await hiddenLikeMissing(crewA, (id) => `/api/alerts/${id}`, hidden, missingAlert)
      await hiddenLikeMissing(crewA, (id) => `/api/alerts/${id}/history`, hidden, missingAlert)
    }
    await hiddenLikeMissing(crewA, (id) => `/api/incidents/${id}`, incidentB.id, randomUUID())
    // Energy sees neither bins nor boilers; housing sees its boiler but not the bins.
    for (const hidden of ['bin-a', 'boiler-a']) await hiddenLikeMissing(energy, (id) => `/api/devices/${id}`, hidden, 'no-such-device')
    await hiddenLikeMissing(energy, (id) => `/api/alerts/${id}`, alertOf['bin-a']!.id, missingAlert)
    await hiddenLikeMissing(housingA, (id) => `/api/devices/${id}`, 'bin-a', 'no-such-device')
    await hiddenLikeMissing(housingA, (id) => `/api/devices/${id}`, 'boiler-b', 'no-such-device')
    await hiddenLikeMissing(viewer, (id) => `/api/devices/${id}`, 'boiler-a', 'no-such-device')

    // Acting on an object outside the scope is not found either, whatever the write rights.
    const ack = (id: string) => `/api/alerts/${id}/acknowledge`
    for (const hidden of [binB, boilerA]) {
      const [h, m] = [await call(crewA, ack(hidden), { method: 'POST' }), await call(crewA, ack(missingAlert), { method: 'POST' })]
      expect([h.status, m.status]).toEqual([404, 404])
      expect(JSON.stringify(h.body).replaceAll(hidden, '<id>')).toBe(JSON.stringify(m.body).replaceAll(missingAlert, '<id>'))
    }
    expect((await call(crewA, `/api/alerts/${binB}/ack`, { method: 'POST' })).status).toBe(404)
    expect((await ok<Alert>(admin, `/api/alerts/${binB}`)).status).toBe('active')

    // In scope, the same routes answer.
    expect(await ok<Device>(housingA, '/api/devices/boiler-a')).toMatchObject({ id: 'boiler-a', uprn: UPRN })
    expect(await ok<{ deviceId: string }>(crewA, '/api/devices/bin-a/readings')).toMatchObject({ deviceId: 'bin-a' })
    expect(await ok<{ deviceId: string }>(crewA, '/api/bins/bin-a/outlook')).toMatchObject({ deviceId: 'bin-a' })
    expect((await ok<AlertHistoryEntry[]>(crewA, `/api/alerts/${alertOf['bin-a']!.id}/history`))[0]).toMatchObject({ action: 'raised' })
    // A site's incident shows each caller only the alerts of kinds it may see.
    expect((await ok<{ alerts: Alert[] }>(crewA, `/api/incidents/${incidentA.id}`)).alerts).toEqual([])
    expect(ids((await ok<{ alerts: Alert[] }>(housingA, `/api/incidents/${incidentA.id}`)).alerts)).toEqual([boilerA])
  })

  it('records a crew member’s actions as theirs, in the history and the audit log', async () => {
    const id = alertOf['bin-a']!.id
    const ack = await call<AlertChanged>(crewA, `/api/alerts/${id}/acknowledge`, { method: 'POST', body: { comment: 'on the round now' } })
    expect(ack.status).toBe(200)
    expect(ack.body).toMatchObject({
      action: 'acknowledged',
      alert: { id, status: 'acknowledged', acknowledgedBy: crewA.actor, acknowledgedComment: 'on the round now' },
      entry: { action: 'acknowledged', actor: crewA.actor, note: 'on the round now' },
    })
    const snooze = await call<AlertChanged>(crewToken, `/api/alerts/${id}/snooze`, {
      method: 'POST',
      body: { until: new Date(Date.now() + 3_600_000).toISOString() },
    })
    expect(snooze).toMatchObject({ status: 200, body: { entry: { action: 'snoozed', actor: crewToken.actor } } })

    const history = await ok<AlertHistoryEntry[]>(crewA, `/api/alerts/${id}/history`)
    expect(history.map((e) => [e.action, e.actor])).toEqual([
      ['raised', 'system'],
      ['acknowledged', crewA.actor],
      ['snoozed', crewToken.actor],
    ])
    const audited = (await auditOf('alert-action')).filter((e) => e.target === `alert:${id}`)
    expect(audited.map((e) => [e.actor, e.detail]).reverse()).toEqual([
      [crewA.actor, { action: 'acknowledged' }],
      [crewToken.actor, { action: 'snoozed' }],
    ])
  })

  it('assigns only to a person who can see the alert, or a team whose role reads it', async () => {
    const id = alertOf['bin-a']!.id
    const assign = (to: string) =>
      call<AlertChanged & { error: { code: string; message: string } }>(crewA, `/api/alerts/${id}/assign`, {
        method: 'POST',
        body: { to },
      })
    const before = (await auditOf('alert-action')).length

    // Missing and unable to see read alike: an assigner does not learn which people exist.
    const cannotSee = await assign(`person:${housingA.id}`)
    const missing = await assign(`person:${randomUUID()}`)
    for (const r of [cannotSee, missing]) {
      expect(r.status).toBe(400)
      expect(r.body.error.code).toBe('BAD_REQUEST')
      expect(r.body.error.message).toContain('no active person with that id who can see bin alerts at site-a')
    }
    const housingTeam = await assign('team:housing@all')
    expect(housingTeam.status).toBe(400)
    expect(housingTeam.body.error.message).toContain('the housing role does not see waste data')
    const otherArea = await assign('team:crew@area-b')
    expect(otherArea.status).toBe(400)
    expect(otherArea.body.error.message).toContain('site site-a is not in area area-b')
    expect((await assign('North crew')).status).toBe(400)
    expect((await ok<Alert>(admin, `/api/alerts/${id}`)).assignedTo).toBeNull()
    expect(await auditOf('alert-action')).toHaveLength(before)

    const colleague = await signedInPerson(svc.service.registry, [{ role: 'crew', areas: ['area-a'] }])
    expect(await assign(`person:${colleague.id}`)).toMatchObject({ status: 200, body: { alert: { assignedTo: `person:${colleague.id}` } } })
    expect(await assign('team:crew@all')).toMatchObject({
      status: 200,
      body: { action: 'assigned', alert: { assignedTo: 'team:crew@all' }, entry: { actor: crewA.actor, assignedTo: 'team:crew@all' } },
    })
    expect(ids(await ok<Alert[]>(crewA, '/api/alerts?assignedTo=team%3Acrew%40all'))).toEqual([id])
  })

  it('shows a viewer what happened but not who, and refuses its actions', async () => {
    const id = alertOf['bin-a']!.id
    const seen = await ok<Alert>(viewer, `/api/alerts/${id}`)
    expect(seen).toMatchObject({
      id,
      status: 'acknowledged',
      acknowledgedBy: null,
      acknowledgedComment: null,
      assignedTo: null,
      resolvedNote: null,
    })
    expect(seen.acknowledgedAt).not.toBeNull()
    const listed = (await ok<Alert[]>(viewer, '/api/alerts')).find((a) => a.id === id)
    expect(listed).toMatchObject({ acknowledgedBy: null, assignedTo: null })
    const history = await ok<AlertHistoryEntry[]>(viewer, `/api/alerts/${id}/history`)
    expect(history.map((e) => e.actor)).toEqual(['system', 'someone', 'someone', 'someone', 'someone'])
    expect(history.every((e) => e.note === null && e.assignedTo === null)).toBe(true)
    // Filtering by assignee would name who holds what.
    expect(await call(viewer, '/api/alerts?assignedTo=team%3Acrew%40all')).toMatchObject({
      status: 403,
      body: { error: { code: 'FORBIDDEN' } },
    })

    for (const path of ['acknowledge', 'ack', 'unsnooze', 'resolve']) {
      const r = await call(viewer, `/api/alerts/${alertOf['bin-b']!.id}/${path}`, { method: 'POST', body: { note: 'seen it' } })
      expect(r, path).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } })
    }
    expect((await ok<Alert>(admin, `/api/alerts/${alertOf['bin-b']!.id}`)).status).toBe('active')

    // The crew sees the same alert with its people.
    expect(await ok<Alert>(crewA, `/api/alerts/${id}`)).toMatchObject({ acknowledgedBy: crewA.actor, assignedTo: 'team:crew@all' })
  })

  it('refuses an in-scope action to a role that reads but does not write that data', async () => {
    // A crew member who is also a viewer everywhere reads site B's bins but acts only in area A.
    const both = await signedInPerson(svc.service.registry, [
      { role: 'crew', areas: ['area-a'] },
      { role: 'viewer', areas: null },
    ])
    const binB = alertOf['bin-b']!.id
    expect((await ok<Alert>(both, `/api/alerts/${binB}`)).id).toBe(binB)
    expect(await call(both, `/api/alerts/${binB}/acknowledge`, { method: 'POST' })).toMatchObject({
      status: 403,
      body: { error: { code: 'FORBIDDEN', message: 'your role cannot act on bin alerts at site-b' } },
    })
    expect((await ok<Alert>(admin, `/api/alerts/${binB}`)).status).toBe('active')
  })

  it('lets only an admin provision and revoke devices, each in the audit log without the secret', async () => {
    const spec = { id: 'bin-new', type: 'bin', name: 'New bin', site: 'site-a' }
    expect(await call(crewA, '/api/devices', { method: 'POST', body: spec })).toMatchObject({
      status: 403,
      body: { error: { code: 'FORBIDDEN' } },
    })
    expect((await call(crewA, '/api/devices/bin-a', { method: 'DELETE' })).status).toBe(403)
    expect(await auditOf('device-provisioned')).toEqual(expect.not.arrayContaining([expect.objectContaining({ target: 'device:bin-new' })]))

    const made = await call<{ id: string; secret: string }>(admin, '/api/devices', { method: 'POST', body: spec })
    expect(made.status).toBe(201)
    const provisioned = (await auditOf('device-provisioned')).find((e) => e.target === 'device:bin-new')
    expect(provisioned).toMatchObject({ actor: 'admin-token', detail: { type: 'bin', site: 'site-a' } })
    expect(JSON.stringify(await svc.service.registry.audit.list({ limit: 1000 }))).not.toContain(made.body.secret)
    expect(ids(await ok<Device[]>(crewA, '/api/devices'))).toEqual(['bin-a', 'bin-new', 'weather-a'])

    expect((await call(admin, '/api/devices/bin-new', { method: 'DELETE' })).status).toBe(204)
    expect((await auditOf('device-revoked')).find((e) => e.target === 'device:bin-new')).toMatchObject({
      actor: 'admin-token',
      detail: { type: 'bin', site: 'site-a' },
    })
    expect((await call(admin, '/api/devices/bin-new', { method: 'DELETE' })).status).toBe(404)
    expect((await auditOf('device-revoked')).filter((e) => e.target === 'device:bin-new')).toHaveLength(1)
  })
})
