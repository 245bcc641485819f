import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EnergyBuildings, EnergyDay } from '#devices'
import { keyboardAudit, launchChromium } from '../helpers/browser.ts'
import { putArea } from '../helpers/people.ts'
import { connectDevice, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'
import {
  axeViolations,
  createPerson,
  DESKTOP,
  openPage,
  PHONE,
  requireBuiltWebApp,
  screenshot,
  scrollsSideways,
  signIn,
  tabTo,
  WEB_ROOT,
} from '../helpers/web.ts'

const SLOT = 30 * 60_000
const DAY = 86_400_000
const clock = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  weekday: 'short',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
})
/** London weekday and clock minute, by Intl alone. */
function london(t: number) {
  const p = Object.fromEntries(clock.formatToParts(t).map((x) => [x.type, x.value]))
  return { weekday: p.weekday!, minute: Number(p.hour) * 60 + Number(p.minute) }
}
/** Open 07:00–19:00 on weekdays (a bank holiday is out of hours to the service as well, so this never calls one open that is not). */
const open = (t: number) => {
  const l = london(t)
  return !['Sat', 'Sun'].includes(l.weekday) && l.minute >= 7 * 60 && l.minute < 19 * 60
}
/** Monday 00:00 London of the week containing `t`. */
function mondayOf(t: number) {
  let m = Math.floor(t / SLOT) * SLOT
  while (!(london(m).weekday === 'Mon' && london(m).minute === 0)) m -= SLOT
  return m
}

const energy = { email: 'avery.energy@council.example', password: 'meter reading lantern 42' }

describe("the energy manager's buildings in Chromium (issue 11, energy)", () => {
  let svc: TestService
  let browser: Browser
  const now = Date.now()
  const week = mondayOf(now)
  /** The Town Hall's readings stop at an out-of-hours half-hour this week; the test then sends the next one. */
  let lastAt = week
  for (let t = Math.floor(now / SLOT) * SLOT - SLOT; t >= week; t -= SLOT)
    if (!open(t)) {
      lastAt = t
      break
    }
  const liveAt = Math.min(lastAt + SLOT, now)
  const registers = new Map<string, { secret: string; site: string; wh: number }>()

  const publish = async (id: string, readings: { ts: number; kw: number }[]) => {
    const m = registers.get(id)!
    const client = await connectDevice(svc.mqttUrl, id, m.secret)
    const out = readings.map(({ ts, kw }) => {
      const r = { ts, readings: { energyWh: Math.round(m.wh), powerW: kw * 1000 } }
      m.wh += (kw * 1000 * SLOT) / 3_600_000
      return r
    })
    await Promise.all(
      out.map((r) => client.publishAsync(telemetryTopic({ id, site: m.site, type: 'meter' }), JSON.stringify(r), { qos: 1 })),
    )
    await client.endAsync()
  }
  const halfHours = (from: number, to: number, kw: (t: number) => number) => {
    const out: { ts: number; kw: number }[] = []
    for (let t = from; t <= to; t += SLOT) out.push({ ts: t, kw: kw(t) })
    return out
  }
  const api = async <T>(path: string): Promise<T> => {
    const res = await svc.api(path)
    const text = await res.text()
    expect(res.status, text).toBe(200)
    return JSON.parse(text) as T
  }

  beforeAll(async () => {
    requireBuiltWebApp()
    svc = await startService({ MQTT_DEVICE_RATE: '0', TIME_LATE_S: String((40 * DAY) / 1000) }, { webRoot: WEB_ROOT, token: undefined })
    const registry = svc.service.registry
    await putArea(registry, { id: 'town', name: 'Town centre', kind: 'ward', sites: ['town-hall', 'museum'] })
    await putArea(registry, { id: 'docks', name: 'Docks', kind: 'ward', sites: ['dock-office'] })
    for (const [id, name, site] of [
      ['m-hall', 'Town Hall', 'town-hall'],
      ['m-museum', 'Museum', 'museum'],
      ['m-dock', 'Dock Office', 'dock-office'],
    ] as const) {
      const d = await svc.provision({ id, type: 'meter', name, site })
      registers.set(id, { secret: d.secret, site, wh: 3_000_000 })
    }
    const from = week - 29 * DAY
    // Four weeks and a day of history: the base load (28 nights) and four of each weekday for the band.
    // Its register runs on past the last reading sent: 30 kW in the half-hour after it, which the test sends later.
    await publish(
      'm-hall',
      halfHours(from, lastAt, (t) => (t === lastAt ? 30 : open(t) ? 20 : 2)),
    )
    // The museum's lights stay on at night this week: 6 kW against a 1 kW base load.
    await publish(
      'm-museum',
      halfHours(from, Math.floor(now / SLOT) * SLOT, (t) => (open(t) ? 12 : t >= week ? 6 : 1)),
    )
    // Another area's building, wasting more than any: never shown.
    await publish(
      'm-dock',
      halfHours(from, Math.floor(now / SLOT) * SLOT, (t) => (open(t) ? 5 : t >= week ? 50 : 1)),
    )
    await createPerson(registry, { ...energy, name: 'Avery Watts', grants: [{ role: 'energy', areas: ['town'] }] })
    await waitFor(async () => {
      const r = await api<EnergyBuildings>('/api/energy/buildings')
      return r.buildings.length === 3 && r.buildings.every((b) => b.week.baseLoadKw !== null)
    }, 60_000)
    browser = await launchChromium()
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await svc?.close()
  })

  const checkPage = async (page: Page, name: string) => {
    for (const [size, viewport] of [
      ['phone', PHONE],
      ['desktop', DESKTOP],
    ] as const) {
      await page.setViewportSize(viewport)
      expect(await axeViolations(page), `${name} at ${size}`).toEqual([])
      await screenshot(page, `energy-${name}-${size}`)
    }
    await page.setViewportSize({ width: 320, height: 640 })
    expect(await scrollsSideways(page), `${name} at 320 px`).toBe(false)
    await page.setViewportSize(PHONE)
  }
  const wasteShown = (page: Page) => page.locator('#energy-waste-kwh').getAttribute('data-kwh')

  it('lands on the ranking, opens a building by keyboard and sees its waste change live in a second context', async () => {
    const a = await openPage(browser, PHONE)
    await signIn(a.page, svc.url, energy, 'Buildings')
    // Landed on the buildings: the menu marks them as the page shown.
    expect(await a.page.locator('#nav a[aria-current="page"]').getAttribute('href')).toBe('#buildings')
    const all = await api<EnergyBuildings>('/api/energy/buildings')
    const ours = all.buildings.filter((b) => b.site !== 'dock-office')
    expect(all.buildings[0]!.deviceId).toBe('m-dock')
    const rows = a.page.locator('#energy-buildings tbody tr')
    await expect.poll(() => rows.count()).toBe(2)
    const shown = (await a.page.evaluate(
      `[...document.querySelectorAll('#energy-buildings tbody tr')].map((tr) => tr.dataset.deviceId)`,
    )) as string[]
    expect(shown).toEqual(ours.map((b) => b.deviceId))
    expect(await a.page.getByText('Dock Office').count()).toBe(0)
    const museum = ours.find((b) => b.deviceId === 'm-museum')!
    expect(await a.page.locator('#energy-buildings tr[data-device-id="m-museum"] .energy-waste-cell').getAttribute('data-kwh')).toBe(
      String(museum.week.wasteKwh),
    )
    await checkPage(a.page, 'buildings')
    // Every control reached by Tab, its focus shown (issue 11, acceptance 2).
    const rankingKeys = await keyboardAudit(a.page)
    expect(rankingKeys.problems).toEqual([])
    expect(rankingKeys.reached).toEqual(expect.arrayContaining(['a "Town Hall"', 'a "Museum"']))

    // Keyboard only: Tab to the Town Hall's link and press Enter.
    expect(await tabTo(a.page, /^Town Hall$/)).toBe(true)
    await a.page.keyboard.press('Enter')
    await a.page.getByRole('heading', { name: 'Town Hall', level: 2 }).waitFor()
    const before = await api<EnergyDay>('/api/energy/buildings/m-hall')
    expect(before.week.wasteKwh).not.toBeNull()
    expect(await wasteShown(a.page)).toBe(String(before.week.wasteKwh))
    expect(await a.page.locator('#energy-waste-kwh').textContent()).toBe(`${before.week.wasteKwh!.toFixed(1)} kWh`)
    expect(await a.page.locator('#energy-today-text').textContent()).toMatch(
      new RegExp(`^${before.weekday} so far: [\\d,.]+ kWh, .*the usual for a ${before.weekday} by this time`),
    )
    // The chart draws what the API gave: the day's half-hours and the band's median.
    const drawn = (await a.page.evaluate(`document.querySelector('.energy-plot').plot.data`)) as (number | null)[][]
    expect(drawn[0]).toEqual(before.halfHours.map((h) => Date.parse(h.start) / 1000))
    expect(drawn[3]).toEqual(before.halfHours.map((h) => h.median))
    expect(await a.page.locator('.energy-halfhours tbody tr').count()).toBe(before.halfHours.length)
    await checkPage(a.page, 'building')
    await a.page.getByText('The half-hours as a table').click()
    const buildingKeys = await keyboardAudit(a.page)
    expect(buildingKeys.problems).toEqual([])
    expect(buildingKeys.reached).toEqual(expect.arrayContaining(['summary "The half-hours as a table"']))
    await a.page.getByText('The half-hours as a table').click()
    expect(await a.page.locator('.energy-halfhours').isVisible()).toBe(false)

    const b = await openPage(browser, DESKTOP)
    await signIn(b.page, svc.url, energy, 'Town Hall', '#buildings/m-hall')
    expect(await wasteShown(b.page)).toBe(String(before.week.wasteKwh))
    await expect.poll(() => b.page.locator('#conn').textContent()).toBe('live')
    // The next reading: the lights were left on for that out-of-hours half-hour, 30 kW against a 2 kW base load.
    await publish('m-hall', [{ ts: liveAt, kw: 2 }])
    await waitFor(async () => (await api<EnergyDay>('/api/energy/buildings/m-hall')).week.wasteKwh !== before.week.wasteKwh, 15_000)
    const after = await api<EnergyDay>('/api/energy/buildings/m-hall')
    expect(after.week.wasteKwh!).toBeGreaterThan(before.week.wasteKwh!)
    await expect.poll(() => wasteShown(b.page), { timeout: 15_000 }).toBe(String(after.week.wasteKwh))
    await expect.poll(() => wasteShown(a.page), { timeout: 15_000 }).toBe(String(after.week.wasteKwh))
    expect(await b.page.locator('#energy-waste-kwh').textContent()).toBe(`${after.week.wasteKwh!.toFixed(1)} kWh`)

    expect(await a.problems()).toEqual([])
    expect(await b.problems()).toEqual([])
    await a.context.close()
    await b.context.close()
  }, 90_000)
  it("draws the day's usage and the usual band exactly as the API gives them, and a half-hour's kWh is the register's rise in the readings (acceptance 4)", async () => {
    const { page, problems, context } = await openPage(browser, DESKTOP)
    await signIn(page, svc.url, energy, 'Town Hall', '#buildings/m-hall')
    await page.locator('.energy-plot canvas').waitFor()
    const day = await api<EnergyDay>('/api/energy/buildings/m-hall')
    const drawn = (await page.evaluate(`document.querySelector('.energy-plot').plot.data.map((s) => Array.from(s))`)) as (number | null)[][]
    // Series: time, the band's high and low, the median, this day's kWh.
    expect(drawn[0]).toEqual(day.halfHours.map((h) => Date.parse(h.start) / 1000))
    expect(drawn[1]).toEqual(day.halfHours.map((h) => h.high))
    expect(drawn[2]).toEqual(day.halfHours.map((h) => h.low))
    expect(drawn[4]).toEqual(day.halfHours.map((h) => h.kwh))
    expect(day.halfHours.filter((h) => h.kwh !== null).length).toBeGreaterThan(0)
    expect(day.halfHours.filter((h) => h.high !== null && h.low !== null).length).toBe(day.halfHours.length)

    // The same window from the readings API: each half-hour with a reading at its start and at its end
    // used the register's rise between them.
    const from = day.halfHours[0]!.start
    const to = new Date(Date.parse(day.halfHours.at(-1)!.start) + SLOT).toISOString()
    const raw = await api<{ points: { time: string; energyWh: number }[] }>(
      `/api/devices/m-hall/readings?${new URLSearchParams({ from, to })}`,
    )
    const wh = new Map(raw.points.map((p) => [Date.parse(p.time), p.energyWh]))
    let compared = 0
    for (const [i, h] of day.halfHours.entries()) {
      const t = Date.parse(h.start)
      const a = wh.get(t)
      const b = wh.get(t + SLOT)
      if (a === undefined || b === undefined) continue
      expect(drawn[4]![i], h.start).toBeCloseTo((b - a) / 1000, 3)
      compared++
    }
    // Only in the first half-hour of a Monday can the day hold fewer than two of its readings.
    if (raw.points.length >= 2) expect(compared).toBeGreaterThan(0)
    expect(await problems()).toEqual([])
    await context.close()
  })

  it('says the band and the lines in words as well as colour: a key naming each, and the range in the table', async () => {
    const { page, context } = await openPage(browser, PHONE)
    await signIn(page, svc.url, energy, 'Town Hall', '#buildings/m-hall')
    await page.locator('.energy-plot canvas').waitFor()
    expect(await page.locator('.energy-key li').allTextContents()).toEqual([
      'This day: solid line with dots',
      'Usual for the weekday (median): dashed line',
      'Usual range (10th to 90th percentile): shaded band',
    ])
    // The median really is dashed and this day's line really has points: shape, not only colour.
    const series = (await page.evaluate(
      `(() => { const u = document.querySelector('.energy-plot').plot; return u.series.map((s, i) => ({ label: s.label, dash: s.dash ?? null, points: typeof s.points?.show === 'function' ? s.points.show(u, i) === true : s.points?.show === true })) })()`,
    )) as { label: string; dash: number[] | null; points: boolean }[]
    expect(series.find((s) => s.label === 'Usual')!.dash).not.toBeNull()
    expect(series.find((s) => s.label === 'This day')!.points).toBe(true)
    const day = await api<EnergyDay>('/api/energy/buildings/m-hall')
    const first = day.halfHours[0]!
    expect(await page.locator('.energy-halfhours thead th').allTextContents()).toContain('Usual range')
    expect(await page.locator('.energy-halfhours tbody tr').first().locator('td[data-label="Usual range"]').textContent()).toMatch(
      /^[\d.,]+ kWh to [\d.,]+ kWh$/,
    )
    expect(first.low).not.toBeNull()
    await context.close()
  })
})
