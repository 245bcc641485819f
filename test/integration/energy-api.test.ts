import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EnergyBuildings, EnergyDay } from '#devices'
import { type Caller, putArea, signedInPerson } from '../helpers/people.ts'
import { connectDevice, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'

const SLOT = 30 * 60_000
const DAY = 86_400_000
/**
 * A fixed past week, so every figure can be worked out by hand: Monday 19 October 2026 (BST) to
 * Monday 26 October 00:00 (GMT); the clocks go back on Sunday 25th (a 50-half-hour day). History
 * from Monday 14 September: five earlier weeks, and no bank holiday in any of it.
 */
const WEEK = '2026-10-19'
const FROM = Date.parse('2026-09-14T00:00:00+01:00')
const TO = Date.parse('2026-10-26T00:00:00Z')

const clock = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  weekday: 'short',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
})
/** London date, weekday and clock minute of an instant, by Intl alone (not the code under test). */
function london(t: number) {
  const p = Object.fromEntries(clock.formatToParts(t).map((x) => [x.type, x.value]))
  return { date: `${p.year}-${p.month}-${p.day}`, weekday: p.weekday!, minute: Number(p.hour) * 60 + Number(p.minute) }
}
/** Whole weeks before the test week (0 in it). */
const weeksBefore = (date: string) => Math.max(0, Math.ceil((Date.parse(WEEK) - Date.parse(date)) / (7 * DAY)))
const open = (l: ReturnType<typeof london>) => !['Sat', 'Sun'].includes(l.weekday) && l.minute >= 7 * 60 && l.minute < 19 * 60
const during = (l: ReturnType<typeof london>, date: string, fromMin: number, toMin: number) =>
  l.date === date && l.minute >= fromMin && l.minute < toMin

interface Building {
  id: string
  name: string
  site: string
  /** kW drawn in the half-hour starting at t. */
  kw(t: number): number
  /** The register starts again from 0 at this reading (a replaced meter). */
  resetAt?: number
}

const BUILDINGS: Building[] = [
  {
    // Open 20 kW (+1 kW for each week back), 2 kW closed; lights left on Tuesday 20:00 to Wednesday 06:00 of the test week at 12 kW.
    id: 'm-library',
    name: 'Central Library',
    site: 'north-lib',
    kw: (t) => {
      const l = london(t)
      if (during(l, '2026-10-20', 20 * 60, 1440) || during(l, '2026-10-21', 0, 6 * 60)) return 12
      return open(l) ? 20 + weeksBefore(l.date) : 2
    },
  },
  {
    // Open 30 kW, 3 kW closed; Saturday 10:00–12:00 of the test week 8 kW; the register restarts on Friday at 12:00.
    id: 'm-school',
    name: 'Hill School',
    site: 'north-school',
    kw: (t) => (during(london(t), '2026-10-24', 10 * 60, 12 * 60) ? 8 : open(london(t)) ? 30 : 3),
    resetAt: Date.parse('2026-10-23T12:00:00+01:00'),
  },
  {
    // Another area's depot, wasting most of all: Wednesday 22:00 to Thursday 06:00 at 30 kW, 1 kW otherwise closed.
    id: 'm-depot',
    name: 'South Depot',
    site: 'south-depot',
    kw: (t) => {
      const l = london(t)
      if (during(l, '2026-10-21', 22 * 60, 1440) || during(l, '2026-10-22', 0, 6 * 60)) return 30
      return open(l) ? 10 : 1
    },
  },
]

/** The meter's readings on every half-hour from FROM to TO: the register (Wh) and the last half-hour's mean power. */
function readings(b: Building) {
  const out: { ts: number; readings: { energyWh: number; powerW: number } }[] = []
  let wh = 5_000_000
  let offset = 0
  let lastKw = 0
  for (let t = FROM; t <= TO; t += SLOT) {
    if (t === b.resetAt) offset = wh
    out.push({ ts: t, readings: { energyWh: Math.round(wh - offset), powerW: lastKw * 1000 } })
    lastKw = b.kw(t)
    wh += lastKw * 500
  }
  return out
}

/** kWh used over the test week by the generator's own arithmetic, less the half-hour a reset hides. */
function weekUse(b: Building) {
  let kwh = 0
  for (let t = Date.parse('2026-10-19T00:00:00+01:00'); t < TO; t += SLOT) if (t + SLOT !== b.resetAt) kwh += b.kw(t) / 2
  return kwh
}

describe('GET /api/energy/buildings: buildings ranked by out-of-hours waste, and a day against its baseline (issue 11, energy)', () => {
  let svc: TestService
  let energyNorth: Caller
  let crewNorth: Caller
  let viewerSouth: Caller
  let housing: Caller
  const get = async <T>(who: Caller | 'admin', path: string, status = 200): Promise<T> => {
    const res = who === 'admin' ? await svc.api(path) : await fetch(`${svc.url}${path}`, { headers: who.headers })
    const text = await res.text()
    expect(res.status, text).toBe(status)
    return JSON.parse(text) as T
  }

  beforeAll(async () => {
    // History reaches back ten weeks from the test week; readings that old are accepted only when allowed.
    svc = await startService({ MQTT_DEVICE_RATE: '0', TIME_LATE_S: String(400 * 86_400) })
    const registry = svc.service.registry
    await putArea(registry, { id: 'north', name: 'North', kind: 'ward', sites: ['north-lib', 'north-school'] })
    await putArea(registry, { id: 'south', name: 'South', kind: 'ward', sites: ['south-depot'] })
    await Promise.all(
      BUILDINGS.map(async (b) => {
        const d = await svc.provision({ id: b.id, type: 'meter', name: b.name, site: b.site })
        const client = await connectDevice(svc.mqttUrl, d.id, d.secret)
        await Promise.all(readings(b).map((r) => client.publishAsync(telemetryTopic(d), JSON.stringify(r), { qos: 1 })))
        await client.endAsync()
      }),
    )
    energyNorth = await signedInPerson(registry, [{ role: 'energy', areas: ['north'] }])
    crewNorth = await signedInPerson(registry, [{ role: 'crew', areas: ['north'] }])
    viewerSouth = await signedInPerson(registry, [{ role: 'viewer', areas: ['south'] }])
    housing = await signedInPerson(registry, [{ role: 'housing', areas: null }])
    // Every reading stored: each building's week adds up.
    await waitFor(async () => {
      const r = await get<EnergyBuildings>('admin', `/api/energy/buildings?week=${WEEK}`)
      return BUILDINGS.every((b) => r.buildings.find((x) => x.deviceId === b.id)?.week.usedKwh === weekUse(b))
    }, 60_000)
  }, 120_000)
  afterAll(async () => {
    await svc?.close()
  })

  it("ranks an energy manager's own buildings by the week's out-of-hours waste, in kWh and £ at the tariff", async () => {
    const r = await get<EnergyBuildings>(energyNorth, `/api/energy/buildings?week=${WEEK}`)
    expect(r.tariffGbpPerKwh).toBe(0.25)
    // The depot wastes most but is in another area: not listed.
    expect(r.buildings.map((b) => [b.deviceId, b.rank, b.name, b.week.wasteKwh, b.week.wasteGbp])).toEqual([
      // 20 half-hours at 12 kW against a 2 kW base load: 20 × (12 − 2) × 0.5 = 100 kWh, £25.
      ['m-library', 1, 'Central Library', 100, 25],
      // 4 half-hours at 8 kW against 3 kW, beyond 3 × 1.2 + 1 = 4.6 kW: 4 × 5 × 0.5 = 10 kWh.
      ['m-school', 2, 'Hill School', 10, 2.5],
    ])
    const lib = r.buildings[0]!.week
    expect(lib.from).toBe('2026-10-18T23:00:00.000Z')
    expect(lib.to).toBe('2026-10-26T00:00:00.000Z')
    expect(lib.baseLoadKw).toBe(2)
    expect(lib.nights).toBe(28)
    expect(lib.usedKwh).toBe(weekUse(BUILDINGS[0]!))
    // Five earlier weeks, each 12 × 5 × 24 = 1,440 kWh … ; the usual is the middle one's (3 weeks back, 23 kW open).
    expect(lib.weeks).toBe(5)
    expect(lib.usualKwh).toBe(5 * (24 * 23 * 0.5 + 24 * 1) + 2 * 48 * 1 + 2)
    expect(lib.note).toBeNull()
    // The school's register restarted on Friday: that half-hour gives nothing, the rest still counts.
    expect(r.buildings[1]!.week.usedKwh).toBe(weekUse(BUILDINGS[1]!))

    const all = await get<EnergyBuildings>('admin', `/api/energy/buildings?week=${WEEK}`)
    // 16 half-hours at 30 kW against 1 kW: 16 × 29 × 0.5 = 232 kWh, £58.
    expect(all.buildings.map((b) => [b.deviceId, b.rank, b.week.wasteKwh, b.week.wasteGbp])).toEqual([
      ['m-depot', 1, 232, 58],
      ['m-library', 2, 100, 25],
      ['m-school', 3, 10, 2.5],
    ])
  })

  it('says in the OpenAPI description exactly what the waste figure means', async () => {
    const doc = await get<{ paths: Record<string, { get: { description: string } }> }>('admin', '/docs/json')
    for (const path of ['/api/energy/buildings', '/api/energy/buildings/{deviceId}'])
      expect(doc.paths[path]!.get.description).toContain(
        "in each half-hour whose demand is beyond the energy-out-of-hours alert's tolerance (base load × 1.2 + 1 kW, or the building's override)",
      )
  })

  it("gives a building's half-hours on a day against the same weekday's band, and the day against the usual", async () => {
    const d = await get<EnergyDay>(energyNorth, '/api/energy/buildings/m-library?day=2026-10-20')
    expect(d).toMatchObject({ deviceId: 'm-library', name: 'Central Library', day: '2026-10-20', weekday: 'Tuesday' })
    expect(d.halfHours).toHaveLength(48)
    const at = (time: string) => d.halfHours.find((h) => h.time === time)!
    // Past Tuesdays opened at 21 … 25 kW: 10.5 … 12.5 kWh a half-hour; median 11.5, 10th–90th percentile 10.5–12.5.
    expect(at('10:00')).toEqual({ start: '2026-10-20T09:00:00.000Z', time: '10:00', kwh: 10, median: 11.5, low: 10.5, high: 12.5 })
    expect(at('21:00')).toMatchObject({ kwh: 6, median: 1, low: 1, high: 1 })
    expect(d.baseline).toEqual({ weeks: 5, needed: 4, note: null })
    // 14 + 240 + 2 + 48 kWh against the median past Tuesday, 24 + 12 × 23 = 300 kWh.
    expect(d.soFar).toEqual({ at: '2026-10-20T23:00:00.000Z', kwh: 304, usualKwh: 300, changePct: 1 })
    expect(d.week.wasteKwh).toBe(100)
    expect(d.week.wasteGbp).toBe(25)

    // The day the clocks go back: 50 half-hours, 01:00 and 01:30 twice, each against the usual Sunday.
    const sunday = await get<EnergyDay>(energyNorth, '/api/energy/buildings/m-library?day=2026-10-25')
    expect(sunday.halfHours).toHaveLength(50)
    expect(sunday.halfHours.filter((h) => h.time === '01:00').map((h) => [h.kwh, h.median])).toEqual([
      [1, 1],
      [1, 1],
    ])

    // A week into the history there is one earlier Tuesday: no band, and the reason in words.
    const early = await get<EnergyDay>(energyNorth, '/api/energy/buildings/m-library?day=2026-09-22')
    expect(early.baseline.weeks).toBe(1)
    expect(early.baseline.note).toBe('No baseline yet: it needs readings on 4 earlier Tuesdays (of the last 8), and there are 1.')
    expect(early.halfHours.every((h) => h.median === null && h.low === null && h.high === null)).toBe(true)
    expect(early.soFar.usualKwh).toBeNull()
    // Its week has exactly the 7 nights before it that a base load needs.
    expect([early.week.nights, early.week.baseLoadKw, early.week.wasteKwh]).toEqual([7, 2, 0])
    const first = await get<EnergyDay>(energyNorth, '/api/energy/buildings/m-library?day=2026-09-15')
    expect([first.baseline.weeks, first.week.wasteKwh, first.week.wasteGbp]).toEqual([0, null, null])
    expect(first.week.note).toContain(
      'No out-of-hours figure yet: the base load needs 7 nights of readings before the week, and there are 0.',
    )
  })

  it("answers another area's building, a missing one and a non-meter as missing, and refuses a crew member", async () => {
    await get(energyNorth, '/api/energy/buildings/m-depot', 404)
    await get(energyNorth, '/api/energy/buildings/m-nowhere', 404)
    await svc.provision({ id: 'b-north', type: 'bin', name: 'Bin', site: 'north-lib' })
    await get('admin', '/api/energy/buildings/b-north', 404)
    await get('admin', '/api/energy/buildings/m-depot?day=2026-02-30', 400)
    await get(crewNorth, '/api/energy/buildings', 403)
    await get(crewNorth, '/api/energy/buildings/m-library', 403)
    await get(housing, '/api/energy/buildings', 403)
    // A viewer reads energy data in their own area only.
    const south = await get<EnergyBuildings>(viewerSouth, `/api/energy/buildings?week=${WEEK}`)
    expect(south.buildings.map((b) => [b.deviceId, b.rank, b.week.wasteKwh])).toEqual([['m-depot', 1, 232]])
    await get(viewerSouth, '/api/energy/buildings/m-library', 404)
  })

  it("follows a building's rule override, as its alerts do", async () => {
    // The school's out-of-hours tolerance raised to 3 × 1.2 + 5 = 8.6 kW: its 8 kW Saturday is no longer waste.
    const res = await svc.api('/api/rules/overrides/device/m-school/energy-out-of-hours', {
      method: 'PUT',
      body: JSON.stringify({ params: { margin: 5 } }),
    })
    expect(res.status, await res.text()).toBe(200)
    const r = await get<EnergyBuildings>(energyNorth, `/api/energy/buildings?week=${WEEK}`)
    expect(r.buildings.map((b) => [b.deviceId, b.rank, b.week.wasteKwh, b.week.toleranceKw])).toEqual([
      ['m-library', 1, 100, 1],
      ['m-school', 2, 0, 5],
    ])
  })
})
