import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert, CaseView } from '#devices'
import { keyboardAudit, launchChromium } from '../helpers/browser.ts'
import { putArea } from '../helpers/people.ts'
import { connectDevice, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'
import {
  axeViolations,
  createPerson,
  DESKTOP,
  type OpenPage,
  openPage,
  PHONE,
  requireBuiltWebApp,
  screenshot,
  scrollsSideways,
  signIn,
  tabTo,
  WEB_ROOT,
} from '../helpers/web.ts'

const STEP = 15 * 60_000
/** A day of readings, every 15 minutes: 97 of them, the newest now. */
const N = 96
const HOME_14 = '100023336956'
const HOME_15 = '100023336957'
const HOME_ELM = '200012345678'

type Readings = Record<string, number | boolean | string>

/** Pressure falls from 1.4 to 0.6 bar over the day (a leak); the last six hours cold; at the end it locks out with F.22. */
const boiler14 = (i: number): Readings => {
  const burnerOn = i < 72 && i % 24 < 8
  return {
    pressureBar: Math.round((1.4 - (0.8 * i) / N) * 1000) / 1000,
    flowTemp: burnerOn ? 64 + (i % 3) : 30,
    returnTemp: burnerOn ? 49 + (i % 2) : 27,
    burnerOn,
    lockout: i === N,
    ...(i === N ? { faultCode: 'F.22' } : {}),
  }
}
const boilerOk = (i: number): Readings => ({
  pressureBar: 1.5,
  flowTemp: i % 24 < 8 ? 62 : 31,
  returnTemp: 30,
  burnerOn: i % 24 < 8,
  lockout: false,
})
/** Six humid hours in the night (88 %), drier either side. */
const room14 = (i: number): Readings => ({ humidity: i >= 24 && i < 48 ? 88 : 55, temperature: 18 })
const roomOk = (): Readings => ({ humidity: 50, temperature: 19 })

const DEVICES = [
  { id: 'b-14', type: 'boiler', name: 'Boiler, 14 Hawthorn House', site: 'hawthorn', uprn: HOME_14, at: boiler14 },
  { id: 'r-14', type: 'room', name: 'Bedroom sensor, 14 Hawthorn House', site: 'hawthorn', uprn: HOME_14, at: room14 },
  { id: 'b-15', type: 'boiler', name: 'Boiler, 15 Hawthorn House', site: 'hawthorn', uprn: HOME_15, at: boilerOk },
  { id: 'r-15', type: 'room', name: 'Bathroom sensor, 15 Hawthorn House', site: 'hawthorn', uprn: HOME_15, at: roomOk },
  // Another estate, in another area: worse than any, and never shown to this officer.
  {
    id: 'b-elm',
    type: 'boiler',
    name: 'Boiler, 3 Elm Court',
    site: 'elm',
    uprn: HOME_ELM,
    at: () => ({ ...boilerOk(0), pressureBar: 0.4, burnerOn: false, flowTemp: 25 }),
  },
  {
    id: 'r-elm',
    type: 'room',
    name: 'Kitchen sensor, 3 Elm Court',
    site: 'elm',
    uprn: HOME_ELM,
    at: () => ({ humidity: 93, temperature: 15 }),
  },
] as const

describe("the housing officer's view in Chromium (issue 11, housing)", () => {
  let svc: TestService
  let browser: Browser
  let url = ''
  const officer = { email: 'hana.housing@council.example', password: 'hawthorn kettle meadow lantern' }
  const json = async <T>(path: string, init: RequestInit = {}) => {
    const res = await svc.api(path, init)
    const body = (await res.json()) as T
    if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`)
    return body
  }
  const pages: OpenPage[] = []
  const secrets = new Map<string, string>()
  const openAlerts = () => json<Alert[]>('/api/alerts?status=open&limit=1000')
  const alertOf = async (deviceId: string, ruleId: string) =>
    (await openAlerts()).find((a) => a.deviceId === deviceId && a.ruleId === ruleId)

  beforeAll(async () => {
    requireBuiltWebApp()
    svc = await startService({ MQTT_DEVICE_RATE: '0' }, { webRoot: WEB_ROOT })
    url = svc.url
    const registry = svc.service.registry
    await putArea(registry, { id: 'hawthorn-estate', name: 'Hawthorn Estate', kind: 'estate', sites: ['hawthorn'] })
    await putArea(registry, { id: 'elm-estate', name: 'Elm Court Estate', kind: 'estate', sites: ['elm'] })
    await createPerson(registry, { ...officer, name: 'Hana Hughes', grants: [{ role: 'housing', areas: ['hawthorn-estate'] }] })

    const now = Date.now()
    const start = now - N * STEP
    await Promise.all(
      DEVICES.map(async (d) => {
        const { id, type, name, site, uprn } = d
        const dev = await svc.provision({ id, type, name, site, uprn })
        secrets.set(id, dev.secret)
        const client = await connectDevice(svc.mqttUrl, id, dev.secret)
        for (let i = 0; i <= N; i++)
          await client.publishAsync(telemetryTopic(dev), JSON.stringify({ ts: start + i * STEP, readings: d.at(i) }), { qos: 1 })
        await client.endAsync()
      }),
    )
    // A significant case opened long ago for the other home, whose clock has run out: breached.
    const triaged = new Date(now - 30 * 86_400_000).toISOString()
    await json('/api/cases', {
      method: 'POST',
      body: JSON.stringify({ deviceId: 'b-15', category: 'emergency', hazard: 'excess-cold', triagedAt: triaged }),
    })
    // The rules raise the alerts from the readings: pressure low and lockout on the boiler, damp in the bedroom.
    await waitFor(async () => {
      const open = await openAlerts()
      const has = (d: string, r: string) => open.some((a) => a.deviceId === d && a.ruleId === r)
      return (
        has('b-14', 'boiler-pressure-low') &&
        has('b-14', 'boiler-lockout') &&
        has('r-14', 'damp-mould-risk') &&
        has('r-elm', 'damp-mould-risk')
      )
    }, 30_000)
    await waitFor(async () => {
      const r = await json<{ points: unknown[] }>(`/api/devices/r-14/readings?from=${new Date(start - 1000).toISOString()}`)
      return r.points.length === N + 1
    }, 20_000)
    browser = await launchChromium()
  }, 120_000)

  afterAll(async () => {
    for (const p of pages) await p.context.close().catch(() => undefined)
    await browser?.close()
    await svc?.close()
  })

  const open = async (viewport: { width: number; height: number } = DESKTOP) => {
    const o = await openPage(browser, viewport)
    pages.push(o)
    return o
  }
  const h2 = (page: Page, name: string) => page.getByRole('heading', { level: 2, name, exact: true })
  /** axe at a phone and a desktop size, sideways scrolling at 320 px, and a screenshot at each. */
  const checkPage = async (page: Page, name: string) => {
    for (const [size, vp] of [
      ['desktop', DESKTOP],
      ['phone', PHONE],
    ] as const) {
      await page.setViewportSize(vp)
      await page.waitForTimeout(150)
      expect(await axeViolations(page), `${name} at ${size}`).toEqual([])
      await screenshot(page, `housing-${name}-${size}`)
    }
    await page.setViewportSize({ width: 320, height: 640 })
    await page.waitForTimeout(150)
    expect(await scrollsSideways(page), `${name} at 320 px`).toBe(false)
    await page.setViewportSize(DESKTOP)
  }

  /** Every control reached by Tab with its focus shown; those named are among them. */
  const keys = async (page: Page, ...names: string[]) => {
    const audit = await keyboardAudit(page)
    expect(audit.problems).toEqual([])
    expect(audit.reached).toEqual(expect.arrayContaining(names))
  }

  it('lands a housing officer on their estates, with counts, and nothing of the estate they are not granted', async () => {
    const { page, problems } = await open()
    await signIn(page, url, officer, 'Estates')
    expect(await page.locator('#nav-list a[aria-current="page"]').textContent()).toBe('Homes')
    const estates = page.locator('#estates > li')
    await expect.poll(() => estates.count()).toBe(1)
    const hawthorn = page.locator('#estates > li[data-site="hawthorn"]')
    expect(await hawthorn.getByRole('link').textContent()).toBe('Hawthorn Estate')
    const count = (k: string) => hawthorn.locator(`[data-count="${k}"] dd`).textContent()
    expect(await count('homes')).toBe('2')
    expect(await count('alerts')).toBe('3')
    expect(await count('damp')).toBe('1')
    expect(await count('cases')).toBe('1')
    const text = (await page.locator('#view-homes').textContent()) ?? ''
    for (const absent of ['Elm', 'elm', HOME_ELM]) expect(text).not.toContain(absent)
    await checkPage(page, 'estates')
    await keys(page, 'a "Hawthorn Estate"')
    expect(await problems()).toEqual([])
  })

  it('opens an estate, then a home: figures now, the fault explained, cases with clocks, charts with alert levels drawn', async () => {
    const { page, problems } = await open()
    await signIn(page, url, officer, 'Estates')
    await page.getByRole('link', { name: 'Hawthorn Estate' }).click()
    await h2(page, 'Hawthorn Estate').waitFor()
    const homes = page.locator('#homes > li')
    await expect.poll(() => homes.count()).toBe(2)
    const h14 = page.locator(`#homes > li[data-uprn="${HOME_14}"]`)
    expect(await h14.getByRole('link').textContent()).toBe('14 Hawthorn House')
    expect(await h14.locator('.home-alerts').textContent()).toMatch(/^3 open alerts: /)
    for (const t of ['Boiler locked out (critical)', 'Boiler pressure low', 'Damp and mould risk'])
      expect(await h14.locator('.home-alerts').textContent()).toContain(t)
    expect(await h14.locator('[data-now="pressure"] dd').textContent()).toBe('0.60 bar')
    expect(await h14.locator('[data-now="humidity"] dd').textContent()).toBe('55 %')
    expect(await page.locator(`#homes > li[data-uprn="${HOME_15}"] .home-alerts`).textContent()).toBe('No open alerts')
    await checkPage(page, 'estate')
    await keys(page, 'a "14 Hawthorn House"', 'a "15 Hawthorn House"')

    await page.getByRole('link', { name: '14 Hawthorn House' }).click()
    await h2(page, '14 Hawthorn House').waitFor()
    // The fault code in words: what it means, and that the resident may reset it.
    const fault = page.locator('#home-fault')
    await expect.poll(() => fault.textContent()).toContain('Fault code F.22: the boiler has stopped.')
    expect(await fault.textContent()).toContain('Water pressure in the heating system is too low')
    expect(await fault.locator('.fault-who').textContent()).toBe('Resident can reset it: it is safe for the household to clear this once.')
    expect(await page.locator('[data-now="pressure"] dd').textContent()).toBe('0.60 bar')

    // Charts drawn, each with its alert levels as dashed lines in the canvas.
    for (const key of ['pressure', 'temperatures', 'humidity-r-14'])
      await page.locator(`[data-chart="${key}"] canvas`).waitFor({ timeout: 10_000 })
    const keyOf = (chart: string) => page.locator(`figure:has([data-chart="${chart}"]) .hchart-key .key-level`).allTextContents()
    expect(await keyOf('pressure')).toEqual([
      'Alert level, dashed: Boiler pressure below lockout level, 0.50 bar',
      'Alert level, dashed: Boiler pressure low, 0.80 bar',
      'Alert level, dashed: Boiler pressure high; Expansion vessel may need recharging, 2.50 bar',
    ])
    expect(await keyOf('humidity-r-14')).toEqual([
      'Alert level, dashed: Over 70 % for more than 2 h in 12 h, 70 %',
      'Alert level, dashed: Over 80 % for 4 hours, 80 %',
      'Alert level, dashed: Over 90 % for more than 1 h in 12 h, 90 %',
    ])
    // The line is really painted: pixels of the warning colour along 0.8 bar.
    const painted = (await page.evaluate(`(() => {
      const u = document.querySelector('[data-chart="pressure"]').plot
      const y = Math.round(u.valToPos(0.8, 'y', true))
      const ctx = u.ctx
      const row = ctx.getImageData(u.bbox.left, y - 1, u.bbox.width, 3).data
      let n = 0
      for (let i = 0; i < row.length; i += 4) if (row[i] === 138 && row[i + 1] === 109 && row[i + 2] === 0) n++
      return n
    })()`)) as number
    expect(painted).toBeGreaterThan(20)
    // Dashed, not only coloured: along that row the level's colour comes and goes, run after run.
    const runs = (await page.evaluate(`(() => {
      const u = document.querySelector('[data-chart="pressure"]').plot
      const y = Math.round(u.valToPos(0.8, 'y', true))
      const row = u.ctx.getImageData(u.bbox.left, y - 1, u.bbox.width, 3).data
      const w = Math.round(u.bbox.width)
      let runs = 0, was = false
      for (let x = 0; x < w; x++) {
        let on = false
        for (let r = 0; r < 3; r++) {
          const i = (r * w + x) * 4
          if (row[i] === 138 && row[i + 1] === 109 && row[i + 2] === 0) on = true
        }
        if (on && !was) runs++
        was = on
      }
      return runs
    })()`)) as number
    expect(runs).toBeGreaterThan(10)
    // The damp-risk period is shaded and said in words; the figures are there as text too.
    const humid = page.locator('figure:has([data-chart="humidity-r-14"])')
    expect(await humid.locator('.damp-span').count()).toBe(1)
    expect(await humid.locator('.damp-span').textContent()).toMatch(
      /^Damp risk from .+ to .+: Over 70 % for more than 2 h in 12 h; Over 80 % for 4 hours$/,
    )
    expect(await humid.locator('tbody tr').first().textContent()).toMatch(/^Relative humidity55 % at (\w{3} )?\d\d:\d\d55 %88 %$/)
    await checkPage(page, 'home')
    await keys(page, 'button "Show 24 hours"', 'button "Show 7 days"', 'button "Show 30 days"')

    // Acceptance 4: each chart reads back what the readings API gives for the same window, at each period.
    // The periods are chosen by keyboard alone: Tab to the button, then Enter (or Space).
    for (const [button, every, hours, key] of [
      ['Show 24 hours', '', 24, 'Enter'],
      ['Show 7 days', '15m', 7 * 24, 'Space'],
      ['Show 30 days', '1h', 30 * 24, 'Enter'],
    ] as const) {
      await page.locator('#view-homes h2').focus()
      expect(await tabTo(page, new RegExp(`^${button}$`)), button).toBe(true)
      await page.keyboard.press(key)
      await expect.poll(() => page.getByRole('button', { name: button, exact: true }).getAttribute('aria-pressed')).toBe('true')
      for (const key of ['pressure', 'temperatures', 'humidity-r-14']) {
        const el = page.locator(`[data-chart="${key}"]`)
        await expect.poll(() => el.getAttribute('data-every')).toBe(every)
        await el.locator('canvas').waitFor()
        const drawn = (await page.evaluate(`(() => {
          const el = document.querySelector('[data-chart="${key}"]')
          return { ...el.dataset, data: el.plot.data.map((s) => Array.from(s)) }
        })()`)) as { deviceId: string; fields: string; from: string; to: string; every: string; data: (number | null)[][] }
        const q = new URLSearchParams({ from: drawn.from, to: drawn.to, ...(every ? { every } : {}) })
        const api = await json<{ points: Record<string, unknown>[] }>(`/api/devices/${drawn.deviceId}/readings?${q}`)
        const num = (v: unknown) => (typeof v === 'number' ? v : null)
        const expected = [
          api.points.map((p) => Date.parse(String(p.time)) / 1000),
          ...drawn.fields.split(',').map((f) => api.points.map((p) => num(p[f]))),
        ]
        expect(api.points.length, `${key} ${button}`).toBeGreaterThan(20)
        expect(drawn.data, `${key} ${button}`).toEqual(expected)
        // Each chart spans its period: 24 hours, 7 days, 30 days up to now.
        expect(Date.parse(drawn.to) - Date.parse(drawn.from), `${key} ${button}`).toBe(hours * 3_600_000)
        expect(Date.now() - Date.parse(drawn.to), `${key} ${button}`).toBeLessThan(120_000)
      }
      // The period shown is told by more than colour: pressed, bold and underlined.
      const pressed = (await page.evaluate(`(() => {
        const b = document.querySelector('.periods button[aria-pressed="true"]'), s = getComputedStyle(b)
        return [b.textContent, Number(s.fontWeight) >= 600, s.textDecorationLine]
      })()`)) as [string, boolean, string]
      expect(pressed).toEqual([button, true, 'underline'])
      if (every) await checkPage(page, `home-${every === '15m' ? '7d' : '30d'}`)
    }
    expect(await problems()).toEqual([])
  })

  it('shows each open case with its clock, and a breached one in red and in words', async () => {
    const { page, problems } = await open()
    await signIn(page, url, officer, '15 Hawthorn House', `#homes/hawthorn/${HOME_15}`)
    const c = page.locator('#cases > li.case')
    await expect.poll(() => c.count()).toBe(1)
    expect(await c.locator('h4').textContent()).toBe('Excess cold (emergency hazard)')
    const clock = c.locator('.case-clock')
    expect(await clock.textContent()).toMatch(/^Breached: Investigate was due by .+, overdue by \d+ days?/)
    expect(await page.evaluate(`getComputedStyle(document.querySelector('#cases .case-clock')).color`)).toBe('rgb(176, 0, 32)')
    expect(await page.locator('#alert-history').textContent()).toBe('No alerts for this home.')
    await checkPage(page, 'home-breached')
    expect(await problems()).toEqual([])
  })

  it('acknowledges with a comment and opens a case by keyboard alone; a second sign-in sees both arrive live', async () => {
    const home = `#homes/hawthorn/${HOME_14}`
    const a = await open()
    const b = await open(PHONE)
    await signIn(a.page, url, officer, '14 Hawthorn House', home)
    await signIn(b.page, url, officer, '14 Hawthorn House', home)
    await expect.poll(() => b.page.locator('#conn').textContent()).toBe('live')
    const low = (await alertOf('b-14', 'boiler-pressure-low'))!
    const damp = (await alertOf('r-14', 'damp-mould-risk'))!
    const inB = (id: string) => b.page.locator(`#alert-history > li[data-alert-id="${id}"]`)
    expect(await inB(low.id).getAttribute('data-status')).toBe('active')

    // Acknowledge: the button names what it acts on; the comment box sits just before it.
    const page = a.page
    await page.locator('#view-homes h2').focus()
    expect(await tabTo(page, /^Acknowledge: Boiler pressure low, 14 Hawthorn House$/)).toBe(true)
    await page.keyboard.press('Shift+Tab')
    expect(await page.evaluate('document.activeElement.labels[0].textContent')).toBe(
      'Comment for Boiler pressure low, 14 Hawthorn House (optional)',
    )
    await page.keyboard.type('Resident says the gauge reads low; topping up today.')
    await page.keyboard.press('Tab')
    const acked = page.waitForResponse((r) => r.url().endsWith(`/api/alerts/${low.id}/acknowledge`))
    await page.keyboard.press('Enter')
    expect((await acked).status()).toBe(200)
    await expect.poll(() => page.locator(`#alert-history > li[data-alert-id="${low.id}"]`).getAttribute('data-status')).toBe('acknowledged')
    expect(await page.locator('#view-homes [role="alert"]').textContent()).toBe('Acknowledged: Boiler pressure low, 14 Hawthorn House.')
    // No reload in the other browser: the acknowledgement and its comment arrive.
    await expect.poll(() => inB(low.id).getAttribute('data-status'), { timeout: 10_000 }).toBe('acknowledged')
    expect(await inB(low.id).locator('.alert-status').textContent()).toContain('Resident says the gauge reads low; topping up today.')

    // Open an Awaab's Law case for the damp, by keyboard.
    await page.locator('#view-homes h2').focus()
    expect(await tabTo(page, /^Open a case: Damp and mould risk, 14 Hawthorn House$/)).toBe(true)
    const opened = page.waitForResponse((r) => r.url().endsWith('/api/cases') && r.request().method() === 'POST')
    await page.keyboard.press('Enter')
    expect((await opened).status()).toBe(201)
    const made = (await json<CaseView[]>(`/api/cases?alertId=${damp.id}`))[0]!
    expect([made.category, made.hazard, made.deviceId]).toEqual(['significant', 'damp-mould', 'r-14'])
    await expect.poll(() => page.locator(`#cases > li[data-alert-id="${damp.id}"]`).count()).toBe(1)
    // The other browser shows it without a reload, with its clock in words.
    const caseInB = b.page.locator(`#cases > li[data-alert-id="${damp.id}"]`)
    await expect.poll(() => caseInB.count(), { timeout: 15_000 }).toBe(1)
    expect(await caseInB.locator('h4').textContent()).toBe('Damp and mould (significant hazard)')
    expect(await caseInB.locator('.case-clock').textContent()).toMatch(/^Investigate by .+, \d+ days?( \d+ hours?)? left$/)
    expect(await inB(damp.id).locator('.alert-case').textContent()).toBe("Awaab's Law case open.")
    expect(await b.page.getByRole('button', { name: 'Open a case: Damp and mould risk, 14 Hawthorn House' }).count()).toBe(0)

    // A new reading moves the figures now and the fault, live: the boiler was topped up and reset.
    const client = await connectDevice(svc.mqttUrl, 'b-14', secrets.get('b-14'))
    const reading = { pressureBar: 1.25, flowTemp: 31, returnTemp: 28, burnerOn: false, lockout: false }
    await client.publishAsync(telemetryTopic({ id: 'b-14', site: 'hawthorn', type: 'boiler' }), JSON.stringify({ readings: reading }), {
      qos: 1,
    })
    await client.endAsync()
    await expect.poll(() => b.page.locator('[data-now="pressure"] dd').textContent(), { timeout: 10_000 }).toBe('1.25 bar')
    await expect.poll(() => b.page.locator('#home-fault').textContent()).toBe('Fault codeThe boiler reports no fault code.')
    await screenshot(a.page, 'housing-home-after-actions-desktop')
    await screenshot(b.page, 'housing-home-live-phone')
    expect(await a.problems()).toEqual([])
    expect(await b.problems()).toEqual([])
  })
})
