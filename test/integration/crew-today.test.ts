import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CrewToday } from '#devices'
import type { Registry } from '../../store/registry.ts'
import { apiToken, type Caller, putArea, signedInPerson } from '../helpers/people.ts'
import { connectDevice, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'

const H = 3_600_000
const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']

/** Yesterday's ISO weekday in London: a round on it next comes round in about six days. */
const yesterdaysWeekday = (now: number) => {
  const today = WEEKDAYS.indexOf(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', weekday: 'short' }).format(now)) + 1
  return today === 1 ? 7 : today - 1
}

interface Series {
  /** Fill at each hourly reading, oldest first, the newest now. */
  fills: number[]
  temperature?: number
  tilted?: boolean
}

/**
 * North bins, each with the reading history that puts it in its place on today's list. Fire
 * and knocked over come from real readings through the alert engine; the forecasts from the
 * fill history (at least six readings over six hours) against the round's next collection.
 */
const NORTH: Record<string, Series | null> = {
  'n-fire': { fills: Array(8).fill(0.2), temperature: 75 },
  'n-tipped': { fills: Array(8).fill(0.6), tilted: true },
  // 5 % an hour from 10 %: full in 11 hours.
  'n-soon': { fills: [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45] },
  // Fuller, but 0.5 % an hour: full in a day and a half, still before the collection.
  'n-later': { fills: [0.785, 0.79, 0.795, 0.8, 0.805, 0.81, 0.815, 0.82] },
  // Not filling: not full before the collection.
  'n-steady': { fills: Array(8).fill(0.7) },
  // One reading: no forecast.
  'n-low': { fills: [0.3] },
  // No reading at all.
  'n-quiet': null,
}
const NORTH_ORDER = ['n-fire', 'n-tipped', 'n-soon', 'n-later', 'n-steady', 'n-low', 'n-quiet']

describe('GET /api/crew/today: the crew’s bins for the day, most urgent first (issue 11, crew)', () => {
  let svc: TestService
  let registry: Registry
  let crewNorth: Caller
  let crewNorthToken: Caller
  let crewSouth: Caller
  let viewerNorth: Caller
  let housing: Caller

  const call = (who: Caller, method: string, path: string, body?: unknown) =>
    fetch(`${svc.url}${path}`, {
      method,
      headers: { ...who.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  const today = async (who: Caller | 'admin', query = ''): Promise<CrewToday> => {
    const path = `/api/crew/today${query}`
    const res = who === 'admin' ? await svc.api(path) : await call(who, 'GET', path)
    const text = await res.text()
    expect(res.status, text).toBe(200)
    return JSON.parse(text) as CrewToday
  }
  const publishAll = async (id: string, site: string, s: Series) => {
    const b = await svc.provision({ id, type: 'bin', name: `Bin ${id}`, site, latitude: 53.8, longitude: -1.55 })
    const client = await connectDevice(svc.mqttUrl, b.id, b.secret)
    const now = Date.now()
    for (const [i, fill] of s.fills.entries()) {
      const last = i >= s.fills.length - 2
      const readings = {
        fillingLevel: fill,
        temperature: last ? (s.temperature ?? 9) : 9,
        batteryPct: 80,
        tilted: last ? (s.tilted ?? false) : false,
      }
      await client.publishAsync(telemetryTopic(b), JSON.stringify({ ts: now - (s.fills.length - 1 - i) * H, readings }), { qos: 1 })
    }
    await client.endAsync()
  }

  beforeAll(async () => {
    svc = await startService({ MQTT_DEVICE_RATE: '0' })
    registry = svc.service.registry
    await putArea(registry, { id: 'north', name: 'North ward', kind: 'ward', sites: ['north-st'] })
    await putArea(registry, { id: 'south', name: 'South ward', kind: 'ward', sites: ['south-st'] })
    const weekday = yesterdaysWeekday(Date.now())
    for (const side of ['north', 'south'])
      expect(
        (
          await svc.api('/api/rounds', {
            method: 'POST',
            body: JSON.stringify({ id: `${side}-weekly`, name: `${side} weekly`, site: `${side}-st`, schedule: { weekdays: [weekday] } }),
          })
        ).status,
      ).toBe(201)
    for (const [id, s] of Object.entries(NORTH)) {
      if (s) await publishAll(id, 'north-st', s)
      else await svc.provision({ id, type: 'bin', name: `Bin ${id}`, site: 'north-st' })
    }
    await publishAll('s-fire', 'south-st', { fills: [0.99, 0.99], temperature: 80 })
    // Driven in the opposite order to the list's urgency: the stop numbers must follow the round, not the list.
    for (const [side, ids] of [
      ['north', [...NORTH_ORDER].reverse()],
      ['south', ['s-fire']],
    ] as const)
      expect((await svc.api(`/api/rounds/${side}-weekly/bins`, { method: 'PUT', body: JSON.stringify({ deviceIds: ids }) })).status).toBe(
        200,
      )

    crewNorth = await signedInPerson(registry, [{ role: 'crew', areas: ['north'] }])
    crewNorthToken = await apiToken(registry, { role: 'crew', areas: ['north'] })
    crewSouth = await signedInPerson(registry, [{ role: 'crew', areas: ['south'] }])
    viewerNorth = await signedInPerson(registry, [{ role: 'viewer', areas: ['north'] }])
    housing = await signedInPerson(registry, [{ role: 'housing', areas: null }])

    // Once the engine has taken every reading: the newest fills, both forecasts and both alarms.
    await waitFor(async () => {
      const t = await today('admin')
      const bin = (id: string) => t.bins.find((b) => b.id === id)
      return (
        bin('n-soon')?.fullAt &&
        bin('n-later')?.fullAt &&
        bin('n-steady')?.fullBeforeCollection === false &&
        bin('n-fire')?.alerts.some((a) => a.ruleId === 'bin-fire') &&
        bin('n-tipped')?.alerts.some((a) => a.ruleId === 'bin-knocked-over') &&
        bin('s-fire')?.alerts.some((a) => a.ruleId === 'bin-fire') &&
        bin('n-low')?.fill === 0.3
      )
    }, 15_000)
  }, 120_000)
  afterAll(async () => {
    await svc?.close()
  })

  it("lists to a crew of one area only that area's bins: fire, knocked over, overflowing soonest, then fullest", async () => {
    const t = await today(crewNorth)
    expect(t.bins.map((b) => b.id)).toEqual(NORTH_ORDER)
    expect(t.total).toBe(NORTH_ORDER.length)
    expect(t.mapTileUrl).toBeNull()
    const bin = (id: string) => t.bins.find((b) => b.id === id)!

    expect(bin('n-fire')).toMatchObject({ name: 'Bin n-fire', site: 'north-st', latitude: 53.8, longitude: -1.55, fill: 0.2 })
    expect(bin('n-fire').alerts[0]).toMatchObject({
      ruleId: 'bin-fire',
      title: 'Possible bin fire',
      severity: 'critical',
      status: 'active',
    })
    expect(bin('n-tipped').alerts[0]).toMatchObject({ ruleId: 'bin-knocked-over', title: 'Bin knocked over' })

    // Both overflow before the collection about six days off; the emptier one sooner.
    const soon = bin('n-soon')
    const later = bin('n-later')
    for (const b of [soon, later]) {
      expect(b.fullBeforeCollection).toBe(true)
      expect(Date.parse(b.fullAt!)).toBeLessThan(Date.parse(b.nextCollection!))
      expect(Date.parse(b.nextCollection!) - Date.now()).toBeGreaterThan(4 * 24 * H)
    }
    expect(Math.abs(Date.parse(soon.fullAt!) - (Date.parse(soon.fillAt!) + 11 * H))).toBeLessThan(10 * 60_000)
    expect(Date.parse(later.fullAt!)).toBeGreaterThan(Date.parse(soon.fullAt!))
    expect(later.fill!).toBeGreaterThan(soon.fill!)

    expect(bin('n-steady')).toMatchObject({ fill: 0.7, fullAt: null, fullBeforeCollection: false })
    expect(bin('n-low')).toMatchObject({ fill: 0.3, fullAt: null, fullBeforeCollection: null })
    expect(bin('n-quiet')).toMatchObject({ fill: null, fillAt: null, fullAt: null, fullBeforeCollection: null, alerts: [] })
    for (const b of t.bins) expect(b.collectedAt).toBeNull()
    expect(t.bins.map((b) => b.stop)).toEqual(
      NORTH_ORDER.map((_, i) => ({ round: 'north weekly', number: NORTH_ORDER.length - i, of: NORTH_ORDER.length })),
    )

    // The same list for the same crew's automation token.
    expect((await today(crewNorthToken)).bins.map((b) => b.id)).toEqual(NORTH_ORDER)
  })

  it('sends only the top of the list when asked for fewer (the first rows of a phone), with the same total, and refuses a limit it cannot honour', async () => {
    const top = await today(crewNorth, '?limit=2')
    expect(top.bins.map((b) => b.id)).toEqual(NORTH_ORDER.slice(0, 2))
    expect(top.total).toBe(NORTH_ORDER.length)
    expect(top.bins[0]).toEqual((await today(crewNorth)).bins[0])
    expect((await today(crewNorth, '?limit=2000')).bins.map((b) => b.id)).toEqual(NORTH_ORDER)
    for (const bad of ['0', '-1', '2001', '1.5', 'all', '1e9', '']) {
      const res = await call(crewNorth, 'GET', `/api/crew/today?limit=${bad}`)
      const body = (await res.json()) as { error?: { code?: string } }
      expect([bad, res.status, body.error?.code]).toEqual([bad, 400, 'BAD_REQUEST'])
    }
  })

  it('lists to the other area only its own bin, and to an admin every bin in one order across areas', async () => {
    const south = await today(crewSouth)
    expect(south.bins.map((b) => b.id)).toEqual(['s-fire'])
    expect(south.bins[0]).toMatchObject({ fill: 0.99, site: 'south-st' })
    // Two fires: the fuller first, then the rest as the crew of north sees them.
    const all = await today('admin')
    expect(all.bins.map((b) => b.id)).toEqual(['s-fire', ...NORTH_ORDER])
  })

  it('lets a viewer of the area read the list, without names or notes, and refuses them the collection', async () => {
    const t = await today(viewerNorth)
    expect(t.bins.map((b) => b.id)).toEqual(NORTH_ORDER)
    const alert = t.bins[0]!.alerts[0]!
    expect(Object.keys(alert).sort()).toEqual(['id', 'raisedAt', 'ruleId', 'severity', 'status', 'title'])
    const res = await call(viewerNorth, 'POST', '/api/bins/n-steady/collections', {})
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN')
    expect((await today(crewNorth)).bins.find((b) => b.id === 'n-steady')?.collectedAt).toBeNull()
  })

  it('refuses housing officers at the route: bins are not their data', async () => {
    const res = await call(housing, 'GET', '/api/crew/today')
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN')
    expect((await fetch(`${svc.url}/api/crew/today`)).status).toBe(401)
  })

  it("shows a bin collected today once the crew marks it, leaves its place in the order, and keeps other areas' bins out of reach", async () => {
    const res = await call(crewNorth, 'POST', '/api/bins/n-steady/collections', {})
    expect(res.status).toBe(201)
    const mark = (await res.json()) as { at: string; source: string }
    expect(mark.source).toBe('manual')
    const t = await today(crewNorth)
    expect(t.bins.find((b) => b.id === 'n-steady')?.collectedAt).toBe(mark.at)
    expect(t.bins.filter((b) => b.collectedAt !== null).map((b) => b.id)).toEqual(['n-steady'])
    expect(t.bins.map((b) => b.id)).toEqual(NORTH_ORDER)
    // The other crew sees nothing of it; and cannot mark a north bin.
    expect((await today(crewSouth)).bins.map((b) => [b.id, b.collectedAt])).toEqual([['s-fire', null]])
    expect((await call(crewSouth, 'POST', '/api/bins/n-low/collections', {})).status).toBe(404)
    expect((await today(crewNorth)).bins.find((b) => b.id === 'n-low')?.collectedAt).toBeNull()
  })

  it('keeps the 2,000 most urgent bins of a bigger scope and says how many there are', async () => {
    await putArea(registry, { id: 'city', name: 'Whole city', kind: 'other', sites: ['many-st'] })
    for (let i = 0; i < 2000; i++) {
      const r = await registry.devices.provision({ id: `m-${String(i).padStart(4, '0')}`, type: 'bin', name: `Many ${i}`, site: 'many-st' })
      if (!r.ok) throw new Error('not provisioned')
    }
    // The last by id, the only one alight: first, where a cut by id would drop it.
    await registry.devices.provision({ id: 'm-zzzz', type: 'bin', name: 'Alight', site: 'many-st' })
    await registry.alerts.raise({
      deviceId: 'm-zzzz',
      deviceType: 'bin',
      site: 'many-st',
      rule: { id: 'bin-fire', title: 'Possible bin fire', severity: 'critical' },
      value: 80,
      ts: Date.now(),
    })
    const crewCity = await signedInPerson(registry, [{ role: 'crew', areas: ['city'] }])
    const t = await today(crewCity)
    expect(t.total).toBe(2001)
    expect(t.bins).toHaveLength(2000)
    expect(t.bins[0]?.id).toBe('m-zzzz')
    expect(t.bins.every((b) => b.site === 'many-st')).toBe(true)
  })
})
