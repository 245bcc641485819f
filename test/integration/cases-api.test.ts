import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert, CaseDetail, CaseView } from '#devices'
import { binReading } from '../helpers/load.ts'
import { connectDevice, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'

const DAY = 86_400_000

describe("Awaab's Law cases through the API (issue 9)", () => {
  let svc: TestService
  let alert: Alert

  const post = (path: string, body: unknown) => svc.api(path, { method: 'POST', body: JSON.stringify(body) })
  const json = async <T>(res: Response, status: number): Promise<T> => {
    const body = await res.json()
    expect({ status: res.status, body }).toMatchObject({ status })
    return body as T
  }
  const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error

  beforeAll(async () => {
    svc = await startService()
    const bin = await svc.provision({ id: 'bin-aw', type: 'bin', site: 'estate-north' })
    await svc.provision({ id: 'bin-aw2', type: 'bin', site: 'estate-south' })
    // A real alert: two readings of a nearly full bin raise bin-full.
    const device = await connectDevice(svc.mqttUrl, bin.id, bin.secret)
    const t0 = Date.now() - 10_000
    await device.publishAsync(telemetryTopic(bin), binReading(t0, 0.97), { qos: 1 })
    await device.publishAsync(telemetryTopic(bin), binReading(t0 + 1000, 0.97), { qos: 1 })
    await device.endAsync()
    alert = await waitFor(async () => {
      const alerts = (await (await svc.api('/api/alerts?deviceId=bin-aw')).json()) as Alert[]
      return alerts.find((a) => a.ruleId === 'bin-full')
    })
  })
  afterAll(() => svc?.close())

  it('turns a real alert into a case once, walks it through its steps and keeps the trail', async () => {
    const before = Date.now()
    const opened = await json<CaseDetail>(
      await post('/api/cases', { alertId: alert.id, category: 'significant', hazard: 'pests', note: 'overflowing bin by the flats' }),
      201,
    )
    expect(opened).toMatchObject({
      alertId: alert.id,
      deviceId: 'bin-aw',
      site: 'estate-north',
      category: 'significant',
      hazard: 'pests',
      state: 'open',
      createdBy: 'admin-token',
      breached: false,
      events: [{ kind: 'opened', actor: 'admin-token', to: 'open', note: 'overflowing bin by the flats', evidence: null }],
    })
    const triagedAt = Date.parse(opened.triagedAt)
    expect(triagedAt).toBeGreaterThanOrEqual(before)
    expect(triagedAt).toBeLessThanOrEqual(Date.now())

    // Ten working days, ending with a London day; later clocks wait for the investigation.
    const [investigate, ...later] = opened.deadlines
    expect(investigate).toMatchObject({ step: 'investigate', status: 'due', breached: false, provisional: false, done: null })
    const due = Date.parse(investigate!.due)
    expect(due - triagedAt).toBeGreaterThan(11 * DAY)
    expect(due - triagedAt).toBeLessThan(20 * DAY)
    expect(new Date(due).toLocaleTimeString('en-GB', { timeZone: 'Europe/London' })).toBe('23:59:59')
    expect(investigate!.secondsLeft).toBe(Math.floor((due - Date.parse(opened.asOf)) / 1000))
    expect(later.map((d) => [d.step, d.status, d.secondsLeft])).toEqual([
      ['written-summary', 'waiting', null],
      ['make-safe', 'waiting', null],
      ['preventative-begin', 'waiting', null],
      ['preventative-on-site', 'waiting', null],
    ])
    expect(opened.next?.step).toBe('investigate')

    // One open case per alert.
    const again = await post('/api/cases', { alertId: alert.id, category: 'emergency', hazard: 'pests' })
    expect(again.status).toBe(409)
    expect(await errorOf(again)).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining(opened.id) })
    const id = opened.id
    expect(await json<CaseDetail>(await svc.api(`/api/cases/${id}`), 200)).toMatchObject({
      id,
      state: 'open',
      events: [{ kind: 'opened' }],
    })

    // The summary reports the investigation, so it cannot come first; the refusal says why.
    const early = await post(`/api/cases/${id}/steps`, { step: 'summarySent' })
    expect(early.status).toBe(409)
    expect(await errorOf(early)).toMatchObject({
      code: 'INVALID_TRANSITION',
      message: 'summarySent cannot be recorded before the investigation',
    })
    const future = await post(`/api/cases/${id}/steps`, { step: 'investigated', at: new Date(Date.now() + DAY).toISOString() })
    expect(future.status).toBe(400)
    expect((await errorOf(future)).code).toBe('BAD_REQUEST')

    const investigatedAt = new Date(triagedAt + 1).toISOString()
    const inv = await json<CaseDetail>(
      await post(`/api/cases/${id}/steps`, { step: 'investigated', at: investigatedAt, note: 'visited' }),
      200,
    )
    expect(inv).toMatchObject({ state: 'investigated', hazardFound: true, steps: { investigated: investigatedAt } })
    expect(inv.deadlines[0]).toMatchObject({ step: 'investigate', status: 'met', done: investigatedAt, secondsLeft: null })
    // The later clocks now run from the investigation: real dues and time left.
    const summary = inv.deadlines.find((d) => d.step === 'written-summary')!
    expect(summary).toMatchObject({ provisional: false, status: 'due', breached: false })
    expect(summary.secondsLeft).toBeGreaterThan(0)
    expect(inv.transitions).toEqual(['made-safe', 'alternative-accommodation'])

    const notClosed = await post(`/api/cases/${id}/state`, { to: 'closed', note: 'done' })
    expect(notClosed.status).toBe(409)
    expect((await errorOf(notClosed)).message).toBe('cannot go from investigated to closed')

    const evidence = { description: 'photo of the overflowing bin', reference: 'https://files.example.gov.uk/case/bin.jpg' }
    await json(await post(`/api/cases/${id}/notes`, { note: 'photo taken at the visit', evidence }), 201)
    await json(await post(`/api/cases/${id}/steps`, { step: 'summarySent' }), 200)
    await json(await post(`/api/cases/${id}/steps`, { step: 'madeSafe' }), 200)
    const closed = await json<CaseDetail>(await post(`/api/cases/${id}/state`, { to: 'closed', note: 'bin emptied, round changed' }), 200)
    expect(closed).toMatchObject({ state: 'closed', transitions: [] })
    expect(closed.events.map((e) => [e.kind, e.step, e.from, e.to, e.actor])).toEqual([
      ['opened', null, null, 'open', 'admin-token'],
      ['step-recorded', 'investigated', 'open', 'investigated', 'admin-token'],
      ['evidence', null, null, null, 'admin-token'],
      ['step-recorded', 'summarySent', null, null, 'admin-token'],
      ['step-recorded', 'madeSafe', 'investigated', 'made-safe', 'admin-token'],
      ['state-changed', null, 'made-safe', 'closed', 'admin-token'],
    ])
    expect(closed.events[1]).toMatchObject({ at: investigatedAt, note: 'visited' })
    expect(closed.events[2]).toMatchObject({ evidence, note: 'photo taken at the visit' })

    // Closed, the alert may be triaged again: a new case and a new clock.
    const reopened = await json<CaseDetail>(await post('/api/cases', { alertId: alert.id, category: 'emergency', hazard: 'pests' }), 201)
    expect(reopened.id).not.toBe(id)
    const ofAlert = await json<CaseView[]>(await svc.api(`/api/cases?alertId=${alert.id}`), 200)
    expect(ofAlert.map((c) => [c.id, c.state])).toEqual(
      expect.arrayContaining([
        [id, 'closed'],
        [reopened.id, 'open'],
      ]),
    )
    expect(ofAlert).toHaveLength(2)
  })

  it('shows time left and a breach once a deadline has passed, and filters by it', async () => {
    const now = Date.now()
    // Four weeks ago is at least 17 working days whatever the holidays: the 10-day investigation is overdue.
    const stale = await json<CaseDetail>(
      await post('/api/cases', {
        deviceId: 'bin-aw2',
        category: 'significant',
        hazard: 'damp-mould',
        triagedAt: new Date(now - 28 * DAY).toISOString(),
      }),
      201,
    )
    expect(stale).toMatchObject({
      site: 'estate-south',
      alertId: null,
      breached: true,
      next: { step: 'investigate', status: 'overdue', breached: true },
    })
    const overdue = stale.deadlines[0]!
    expect(overdue.secondsLeft).toBeLessThan(-7 * 86_400)
    expect(overdue.secondsLeft).toBe(Math.floor((Date.parse(overdue.due) - Date.parse(stale.asOf)) / 1000))

    // Over Easter 2026 (Good Friday 3 April, Easter Monday 6 April): 1, 2, 7–10, 13–16 April, ending in BST.
    const easter = await json<CaseDetail>(
      await post('/api/cases', {
        site: 'estate-south',
        category: 'significant',
        hazard: 'damp-mould',
        triagedAt: '2026-04-01T10:00:00+01:00',
      }),
      201,
    )
    expect(easter).toMatchObject({ triagedAt: '2026-04-01T09:00:00.000Z', deviceId: null, breached: true })
    expect(easter.deadlines[0]).toMatchObject({ step: 'investigate', due: '2026-04-16T22:59:59.999Z', status: 'overdue' })

    const fresh = await json<CaseDetail>(
      await post('/api/cases', { deviceId: 'bin-aw2', category: 'emergency', hazard: 'excess-cold' }),
      201,
    )
    expect(fresh).toMatchObject({ breached: false, next: { step: 'investigate', status: 'due' } })
    expect(Date.parse(fresh.deadlines[0]!.due) - Date.parse(fresh.triagedAt)).toBe(DAY)
    expect(fresh.deadlines[0]!.secondsLeft).toBeGreaterThan(86_400 - 60)

    const ids = async (q: string) => (await json<CaseView[]>(await svc.api(`/api/cases?${q}`), 200)).map((c) => c.id)
    expect(await ids('site=estate-south')).toEqual([fresh.id, stale.id, easter.id])
    expect(await ids('site=estate-south&breached=true')).toEqual([stale.id, easter.id])
    expect(await ids('site=estate-south&breached=false')).toEqual([fresh.id])
    expect(await ids('site=estate-south&breached=true&limit=1')).toEqual([stale.id])
    expect(await ids('deviceId=bin-aw2&state=open')).toEqual([fresh.id, stale.id])
    expect(await ids('site=estate-south&state=closed')).toEqual([])

    // Moving on does not undo a breach: an investigation recorded late is a missed deadline.
    const late = await json<CaseDetail>(await post(`/api/cases/${stale.id}/steps`, { step: 'investigated' }), 200)
    expect(late).toMatchObject({ breached: true })
    expect(late.deadlines[0]).toMatchObject({ status: 'missed', breached: true, secondsLeft: null })
  })

  it('refuses a case it cannot place or time, and answers 404 for what does not exist', async () => {
    const refuse = async (body: unknown, status: number, message: RegExp) => {
      const res = await post('/api/cases', body)
      expect(res.status).toBe(status)
      expect((await errorOf(res)).message).toMatch(message)
    }
    const base = { category: 'significant', hazard: 'damp-mould', site: 'estate-east' }
    await refuse({ ...base, triagedAt: new Date(Date.now() + 3_600_000).toISOString() }, 400, /in the future/)
    await refuse({ ...base, triagedAt: '2025-10-26T12:00:00Z' }, 400, /27 October 2025/)
    await refuse({ category: 'significant', hazard: 'damp-mould' }, 400, /alertId, deviceId or site/)
    await refuse({ ...base, alertId: alert.id, site: undefined, deviceId: 'bin-aw2' }, 400, /differs from the alert/)
    await refuse({ ...base, alertId: randomUUID() }, 404, /no alert/)
    await refuse({ ...base, deviceId: 'no-such-bin' }, 404, /no device/)
    expect((await post('/api/cases', { ...base, category: 'urgent' })).status).toBe(400)

    const missing = randomUUID()
    expect((await svc.api(`/api/cases/${missing}`)).status).toBe(404)
    expect((await post(`/api/cases/${missing}/steps`, { step: 'investigated' })).status).toBe(404)
    expect((await post(`/api/cases/${missing}/state`, { to: 'cancelled', note: 'duplicate' })).status).toBe(404)
    expect((await post(`/api/cases/${missing}/notes`, { note: 'x' })).status).toBe(404)
    const c = await json<CaseDetail>(await post('/api/cases', base), 201)
    expect((await post(`/api/cases/${c.id}/steps`, { step: 'fixed' })).status).toBe(400)
    expect((await post(`/api/cases/${c.id}/state`, { to: 'cancelled' })).status).toBe(400)
    const cancelled = await json<CaseDetail>(
      await post(`/api/cases/${c.id}/state`, { to: 'cancelled', note: 'duplicate of another report' }),
      200,
    )
    expect(cancelled).toMatchObject({ state: 'cancelled', deadlines: [], breached: false })
  })

  it('documents the case routes in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${svc.url}/docs/json`)).json()) as { paths: Record<string, Record<string, unknown>> }
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/api/cases'))).toEqual([
      '/api/cases',
      '/api/cases/{id}',
      '/api/cases/{id}/steps',
      '/api/cases/{id}/state',
      '/api/cases/{id}/notes',
    ])
    expect(Object.keys(doc.paths['/api/cases']!).sort()).toEqual(['get', 'post'])
  })
})
