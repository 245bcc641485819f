import type { MqttClient } from 'mqtt'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import type { CrewToday } from '#devices'
import type { Service } from '../../service/service.ts'
import { keyboardAudit, launchChromium } from '../helpers/browser.ts'
import { putArea } from '../helpers/people.ts'
import { connectDevice, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'
import { tcpRelay } from '../helpers/tcp-relay.ts'
import {
  axeViolations,
  createPerson,
  openPage,
  PHONE,
  requireBuiltWebApp,
  screenshot,
  scrollsSideways,
  tabTo,
  WEB_ROOT,
  signIn as webSignIn,
} from '../helpers/web.ts'

const H = 3_600_000
const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']

/** Riverside's bins: name, position and hourly fills (oldest first, the newest now; empty: no reading). */
const RIVERSIDE = [
  { id: 'r-fire', name: 'Quay Steps', at: [53.7961, -1.5412], fills: [0.3] },
  // 5 % an hour: full in 11 hours, days before the round comes.
  { id: 'r-soon', name: 'Boat House', at: [53.7957, -1.5398], fills: [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45] },
  { id: 'r-full', name: 'Mill Yard', at: [53.7966, -1.5421], fills: [0.97] },
  { id: 'r-half', name: 'Lock Gate', at: [53.7949, -1.5405], fills: Array(8).fill(0.55) },
  { id: 'r-low', name: 'Canal Wharf', at: [53.7971, -1.5389], fills: [0.1] },
  { id: 'r-quiet', name: 'Tow Path', at: [53.7944, -1.5431], fills: [] },
] as const
const ORDER = ['r-fire', 'r-soon', 'r-full', 'r-half', 'r-low', 'r-quiet']

describe("the crew's phone view in Chromium (issue 11, crew)", () => {
  let svc: TestService
  let service: Service
  let browser: Browser
  let url = ''
  let mqttUrl = ''
  const crew = { email: 'rowan.crew@council.example', password: 'towpath heron barge morning' }
  const secrets = new Map<string, string>()
  let crewId = ''

  const admin = (path: string, init: { method?: string; body?: unknown } = {}) =>
    svc.api(path, { method: init.method ?? 'GET', ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }) })
  const publish = async (id: string, site: string, readings: { ts: number; fill: number; tilted?: boolean }[]) => {
    const client: MqttClient = await connectDevice(mqttUrl, id, secrets.get(id))
    for (const r of readings)
      await client.publishAsync(
        telemetryTopic({ id, site, type: 'bin' }),
        JSON.stringify({ ts: r.ts, readings: { fillingLevel: r.fill, temperature: 9, batteryPct: 80, tilted: r.tilted ?? false } }),
        { qos: 1 },
      )
    await client.endAsync()
  }
  const provision = async (id: string, name: string, site: string, at: readonly [number, number]) => {
    const res = await admin('/api/devices', { method: 'POST', body: { id, type: 'bin', name, site, latitude: at[0], longitude: at[1] } })
    expect(res.status).toBe(201)
    secrets.set(id, ((await res.json()) as { secret: string }).secret)
  }

  beforeAll(async () => {
    requireBuiltWebApp()
    // Open connections' access checked again every half second (15 s by default), for the sign-out test.
    svc = await startService({ MQTT_DEVICE_RATE: '0', SOCKETIO_RECHECK_MS: '500' }, { webRoot: WEB_ROOT })
    service = svc.service
    url = service.httpUrl
    mqttUrl = `mqtt://127.0.0.1:${service.broker.port}`
    const registry = service.registry

    await putArea(registry, { id: 'riverside', name: 'Riverside round', kind: 'round', sites: ['riverside'] })
    await putArea(registry, { id: 'hillside', name: 'Hillside round', kind: 'round', sites: ['hillside'] })
    // Yesterday's weekday: the round next comes in about six days.
    const today = WEEKDAYS.indexOf(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', weekday: 'short' }).format(Date.now())) + 1
    const round = { id: 'riverside-round', name: 'Riverside', site: 'riverside', schedule: { weekdays: [today === 1 ? 7 : today - 1] } }
    expect((await admin('/api/rounds', { method: 'POST', body: round })).status).toBe(201)

    const now = Date.now()
    for (const b of RIVERSIDE) {
      await provision(b.id, b.name, 'riverside', b.at)
      if (b.fills.length > 0)
        await publish(
          b.id,
          'riverside',
          b.fills.map((fill, i) => ({ ts: now - (b.fills.length - 1 - i) * H, fill })),
        )
    }
    expect((await admin('/api/rounds/riverside-round/bins', { method: 'PUT', body: { deviceIds: ORDER } })).status).toBe(200)
    // Another round's bin, fuller than any: never on this crew's map or list.
    await provision('h-full', 'Hill Top', 'hillside', [53.81, -1.56])
    await publish('h-full', 'hillside', [{ ts: now, fill: 0.99 }])
    await registry.alerts.raise({
      deviceId: 'r-fire',
      deviceType: 'bin',
      site: 'riverside',
      rule: { id: 'bin-fire', title: 'Possible bin fire', severity: 'critical' },
      value: 72,
      ts: now,
    })

    crewId = await createPerson(registry, { ...crew, name: 'Rowan Reed', grants: [{ role: 'crew', areas: ['riverside'] }] })
    // Every reading taken: the fills shown and the forecast made.
    await waitFor(async () => {
      const t = (await (await admin('/api/crew/today')).json()) as CrewToday
      const bin = (id: string) => t.bins.find((b) => b.id === id)
      return bin('r-soon')?.fullBeforeCollection === true && bin('r-half')?.fullBeforeCollection === false && bin('h-full')?.fill === 0.99
    }, 15_000)
    browser = await launchChromium()
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await svc?.close()
  })

  /** A phone (360 × 640, touch), recording CSP violations, failed responses and script errors. */
  const phone = async () => {
    const { context, page, problems } = await openPage(browser, PHONE)
    return { context, page, violations: problems }
  }
  const signIn = (page: Page) => webSignIn(page, url, crew, "Today's round")
  // Strings, evaluated in the page: this project's TypeScript has no DOM types outside the web app.
  const idsOf = (page: Page, selector: string) =>
    page.evaluate(`[...document.querySelectorAll('${selector}')].map((e) => e.dataset.deviceId)`) as Promise<string[]>
  const listOrder = (page: Page) => idsOf(page, '#crew-list > li')
  const row = (page: Page, id: string) => page.locator(`#crew-list > li[data-device-id="${id}"]`)
  const shoot = (page: Page, name: string) => screenshot(page, `crew-${name}`)

  it('signs a crew member in to their round: a marker per bin on the map, the list most urgent first, nothing of other rounds', async () => {
    const { context, page, violations } = await phone()
    await signIn(page)
    expect(await page.locator('#me-roles').textContent()).toBe('crew in riverside')
    await expect.poll(() => page.locator('#conn').textContent()).toBe('live')

    const markers = page.locator('#crew-map path.bin-marker')
    await expect.poll(() => markers.count()).toBe(RIVERSIDE.length)
    expect((await idsOf(page, '#crew-map path.bin-marker')).sort()).toEqual([...ORDER].sort())
    // Size says the fill as well as colour does.
    const radius = async (id: string) => (await page.locator(`#crew-map path[data-device-id="${id}"]`).boundingBox())!.width
    expect(await radius('r-full')).toBeGreaterThan(await radius('r-low'))
    expect(await page.locator('#crew-map').isVisible()).toBe(true)

    expect(await listOrder(page)).toEqual(ORDER)
    expect(await row(page, 'r-fire').textContent()).toContain('Alert: Possible bin fire')
    expect(await row(page, 'r-full').locator('.bin-fill').textContent()).toBe('97% full')
    // Where each bin comes along the round, as the round's bins were given (ORDER).
    expect(await row(page, 'r-full').locator('.bin-stop').textContent()).toBe('Stop 3 of 6 on Riverside')
    // London times; the round's next visit is at 07:00 about six days on.
    const next = String.raw`\(\w{3}( \d{1,2} \w{3})? 07:00\)`
    expect(await row(page, 'r-soon').locator('.bin-forecast').textContent()).toMatch(
      new RegExp(String.raw`^Full by (\w{3} )?\d\d:\d\d, before its collection ${next}$`),
    )
    expect(await row(page, 'r-half').locator('.bin-forecast').textContent()).toMatch(
      new RegExp(`^Full: not before next collection ${next}$`),
    )
    expect(await row(page, 'r-quiet').locator('.bin-fill').textContent()).toBe('No reading yet')
    expect(await page.locator('#crew-summary').textContent()).toBe('6 bins. Most urgent first.')
    expect(await page.getByText('Hill Top').count()).toBe(0)
    // Every button says which bin it marks, and is big enough for a thumb.
    for (const b of RIVERSIDE) {
      const box = await page.getByRole('button', { name: `Collected: ${b.name}`, exact: true }).boundingBox()
      expect(box!.height).toBeGreaterThanOrEqual(44)
    }
    expect(await scrollsSideways(page)).toBe(false)
    await shoot(page, '360x640')

    // Every alert in their areas is one link away, and today's round one menu item back.
    // Followed from the keyboard: a click aimed at a link under 50 rows can land elsewhere when rows
    // near it finish laying out between Playwright's aim and its click (CI: the hash never changed).
    await page.getByRole('link', { name: 'All alerts in your areas' }).press('Enter')
    await page.getByRole('heading', { name: 'Alerts', exact: true }).waitFor()
    expect(await page.locator('#crew-view').isHidden()).toBe(true)
    const menu = page.getByRole('navigation', { name: 'Views' })
    expect(await menu.getByRole('link').allTextContents()).toEqual(["Today's round", 'Alerts', 'All devices'])
    expect(await menu.getByRole('link', { name: 'Alerts' }).getAttribute('aria-current')).toBe('page')
    await menu.getByRole('link', { name: "Today's round" }).click()
    await page.getByRole('heading', { name: "Today's round" }).waitFor()
    await expect.poll(() => listOrder(page)).toEqual(ORDER)
    expect(await violations()).toEqual([])
    await context.close()
  })

  it('marks a bin collected with one tap; the row says so at once, a colleague sees it live and an admin finds the collection', async () => {
    // A colleague on the same round, their phone already open on the list.
    const colleague = await phone()
    await signIn(colleague.page)
    await expect.poll(() => colleague.page.locator('#conn').textContent()).toBe('live')
    expect(await row(colleague.page, 'r-full').getAttribute('data-collected')).toBe('false')

    const { context, page, violations } = await phone()
    await signIn(page)
    const button = page.getByRole('button', { name: 'Collected: Mill Yard', exact: true })
    const posted = page.waitForResponse((r) => r.url().endsWith('/api/bins/r-full/collections') && r.request().method() === 'POST')
    await button.tap()
    expect((await posted).status()).toBe(201)
    const status = row(page, 'r-full').locator('.bin-status')
    await expect.poll(() => status.textContent()).toMatch(/^Collected at \d\d:\d\d$/)
    // Focus moves to what the button did, and within the hour there is nothing more to tap.
    expect(await page.evaluate(`[document.activeElement.className, document.activeElement.closest('li').dataset.deviceId]`)).toEqual([
      'bin-status',
      'r-full',
    ])
    expect(await button.count()).toBe(0)
    expect(await row(page, 'r-full').getAttribute('data-collected')).toBe('true')
    await shoot(page, 'collected')
    // Live on the colleague's phone, without a reload: the row says done and offers no button.
    await expect.poll(() => row(colleague.page, 'r-full').getAttribute('data-collected')).toBe('true')
    expect(await row(colleague.page, 'r-full').locator('.bin-status').textContent()).toMatch(/^Collected at \d\d:\d\d$/)
    expect(await colleague.page.getByRole('button', { name: 'Collected: Mill Yard', exact: true }).count()).toBe(0)
    expect(await colleague.violations()).toEqual([])
    await colleague.context.close()

    // Another browser, as an administrator with the token: the collection is there, by this crew member.
    const office = await browser.newContext()
    const res = await office.request.get(`${url}/api/collections?deviceId=r-full`, { headers: { authorization: `Bearer ${svc.token}` } })
    expect(res.status()).toBe(200)
    const collections = (await res.json()) as { deviceId: string; source: string; actor: string }[]
    expect(collections).toEqual([expect.objectContaining({ deviceId: 'r-full', source: 'manual', actor: `person:${crewId}` })])
    await office.close()

    // A reload keeps it: the list comes from the server.
    await page.reload()
    await page.getByRole('heading', { name: "Today's round" }).waitFor()
    await expect.poll(() => row(page, 'r-full').locator('.bin-status').textContent()).toMatch(/^Collected at \d\d:\d\d$/)
    expect(await violations()).toEqual([])
    await context.close()
  })

  it('updates live: a reading moves the fill, a new alert brings its bin up the list', async () => {
    const { context, page, violations } = await phone()
    await signIn(page)
    await expect.poll(() => page.locator('#conn').textContent()).toBe('live')
    await publish('r-low', 'riverside', [{ ts: Date.now(), fill: 0.62 }])
    await expect.poll(() => row(page, 'r-low').locator('.bin-fill').textContent()).toBe('62% full')
    await expect.poll(() => page.locator('#crew-map path[data-device-id="r-low"]').getAttribute('data-band')).toBe('filling')

    // Knocked over (two tilted readings): straight after the fire.
    await publish('r-half', 'riverside', [
      { ts: Date.now() - 1000, fill: 0.55, tilted: true },
      { ts: Date.now(), fill: 0.55, tilted: true },
    ])
    await expect.poll(() => listOrder(page), { timeout: 10_000 }).toEqual(['r-fire', 'r-half', 'r-soon', 'r-full', 'r-low', 'r-quiet'])
    expect(await row(page, 'r-half').textContent()).toContain('Alert: Bin knocked over')
    expect(await violations()).toEqual([])
    await context.close()
  })

  it('keeps the last data when the connection drops, says how old it is, and catches up when it is back', async () => {
    const { context, page } = await phone()
    // The phone's signal, between it and the service: cut, every connection drops and none can be made.
    const net = await tcpRelay(Number(new URL(url).port))
    onTestFinished(() => net.close())
    // Socket.IO starts on long-polling and then moves to the WebSocket ("5" ends the upgrade): cut it once it has.
    let upgraded = false
    page.on('websocket', (w) =>
      w.on('framesent', (f) => {
        if (f.payload === '5') upgraded = true
      }),
    )
    await webSignIn(page, net.url, crew, "Today's round")
    await expect.poll(() => page.locator('#conn').textContent()).toBe('live')
    await expect.poll(() => upgraded).toBe(true)
    // The connection is held by the page's worker (live-worker.ts), not the page's own thread.
    expect(page.workers().map((w) => new URL(w.url()).pathname)).toContainEqual(expect.stringMatching(/^\/assets\/live-worker-[\w-]+\.js$/))
    const banner = page.locator('#crew-offline')
    expect(await banner.isHidden()).toBe(true)

    net.cut()
    await banner.waitFor({ state: 'visible', timeout: 10_000 })
    expect(await banner.textContent()).toMatch(/^Showing data from \d\d:\d\d; reconnecting$/)
    expect(await banner.getAttribute('role')).toBe('status')
    expect(await listOrder(page)).toHaveLength(RIVERSIDE.length)
    // Meanwhile a bin fills: the screen cannot know yet.
    await publish('r-quiet', 'riverside', [{ ts: Date.now(), fill: 0.4 }])
    await shoot(page, 'offline')

    net.mend()
    await banner.waitFor({ state: 'hidden', timeout: 15_000 })
    await expect.poll(() => row(page, 'r-quiet').locator('.bin-fill').textContent()).toBe('40% full')
    expect(await page.locator('#conn').textContent()).toBe('live')
    await context.close()
  })

  it('fits a 320 px screen without sideways scrolling and has no axe-core WCAG 2.2 A/AA violations, on a phone and a desktop', async () => {
    const { context, page, violations } = await phone()
    await signIn(page)
    await expect.poll(() => page.locator('#crew-map path.bin-marker').count()).toBe(RIVERSIDE.length)
    expect(await axeViolations(page)).toEqual([])

    await page.setViewportSize({ width: 320, height: 640 })
    expect(await scrollsSideways(page)).toBe(false)
    await shoot(page, '320x640')

    // The whole list can be worked from the keyboard: tabbing reaches every bin's button in list order.
    const buttons = await page.locator('#crew-list button.collect').allTextContents()
    expect(buttons.length).toBeGreaterThanOrEqual(RIVERSIDE.length - 1)
    const reached: string[] = []
    await page.locator('#crew-h').focus()
    for (let i = 0; i < 40 && reached.length < buttons.length; i++) {
      await page.keyboard.press('Tab')
      const name = (await page.evaluate(
        `document.activeElement && document.activeElement.matches('button.collect') ? document.activeElement.textContent : null`,
      )) as string | null
      if (name) reached.push(name)
    }
    expect(reached).toEqual(buttons)
    // The last one has focus, visibly, and Enter marks its bin as a tap does.
    const focus = (await page.evaluate(`(() => {
      const el = document.activeElement, s = getComputedStyle(el)
      return { id: el.closest('li').dataset.deviceId, ring: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2 }
    })()`)) as { id: string; ring: boolean }
    expect(focus.ring).toBe(true)
    await page.keyboard.press('Enter')
    await expect.poll(() => row(page, focus.id).getAttribute('data-collected')).toBe('true')
    expect(await violations()).toEqual([])
    await context.close()

    const desk: BrowserContext = await browser.newContext({ viewport: { width: 1366, height: 900 } })
    const wide = await desk.newPage()
    await signIn(wide)
    await expect.poll(() => wide.locator('#crew-map path.bin-marker').count()).toBe(RIVERSIDE.length)
    expect(await axeViolations(wide)).toEqual([])
    expect(await scrollsSideways(wide)).toBe(false)
    await shoot(wide, '1366x900')
    await desk.close()
  })
  it('works from the keyboard alone: every control and marker reached with its focus shown; a marker names its band and Enter finds its row', async () => {
    const { context, page, violations } = await phone()
    await signIn(page)
    await expect.poll(() => page.locator('#crew-map path.bin-marker').count()).toBe(RIVERSIDE.length)
    // Colour is never the only cue: each marker's accessible name says its band in the list's words.
    const WORD: Record<string, string> = {
      full: 'full',
      'nearly-full': 'nearly full',
      filling: 'filling',
      low: 'under half full',
      unknown: 'no reading yet',
    }
    const markers = (await page.evaluate(
      `[...document.querySelectorAll('#crew-map path.bin-marker')].map((p) => [p.dataset.deviceId, p.dataset.band, p.getAttribute('aria-label')])`,
    )) as [string, string, string][]
    expect(markers).toHaveLength(RIVERSIDE.length)
    for (const [id, band, name] of markers) {
      const bin = RIVERSIDE.find((b) => b.id === id)!
      expect(name, id).toMatch(new RegExp(`^Find in the list: ${bin.name} · .+ \\(${WORD[band]}\\)`))
    }
    expect(markers.find(([id]) => id === 'r-full')![1]).toBe('full')

    const audit = await keyboardAudit(page)
    expect(audit.problems).toEqual([])
    expect(audit.reached).toEqual(
      expect.arrayContaining([
        'button "Collected: Lock Gate"',
        'a "All alerts in your areas"',
        expect.stringMatching(/^path "Find in the list: Mill Yard · 97% full \(full\)/),
      ]),
    )
    // Enter on Mill Yard's marker brings its row into view and puts the focus there, as a tap does.
    await page.locator('#crew-h').focus()
    expect(await tabTo(page, /^Find in the list: Mill Yard/)).toBe(true)
    await page.keyboard.press('Enter')
    await expect.poll(() => page.evaluate(`document.activeElement.closest('li')?.dataset.deviceId`)).toBe('r-full')
    await page.locator('#crew-h').focus()
    expect(await tabTo(page, /^Find in the list: Lock Gate/)).toBe(true)
    await page.keyboard.press('Space')
    await expect.poll(() => page.evaluate(`document.activeElement.closest('li')?.dataset.deviceId`)).toBe('r-half')
    await shoot(page, 'keyboard-360x640')
    expect(await violations()).toEqual([])
    await context.close()
  })

  it('stays live when the worker that holds the connection cannot start: the page holds it itself', async () => {
    const { context, page, violations } = await phone()
    let routed = 0
    await page.route('**/assets/live-worker-*.js', (r) => {
      routed++
      return r.fulfill({ status: 404, body: 'gone' })
    })
    await signIn(page)
    await expect.poll(() => page.locator('#conn').textContent()).toBe('live')
    expect(routed).toBe(1)
    expect(page.workers().map((w) => w.url())).not.toContainEqual(expect.stringMatching(/live-worker/))
    const before = await row(page, 'r-low').locator('.bin-fill').textContent()
    const fill = before === '64% full' ? 0.65 : 0.64
    await publish('r-low', 'riverside', [{ ts: Date.now(), fill }])
    await expect.poll(() => row(page, 'r-low').locator('.bin-fill').textContent()).toBe(`${Math.round(fill * 100)}% full`)
    expect(await violations()).toEqual([expect.stringMatching(/^404 \/assets\/live-worker-[\w-]+\.js$/)])
    await context.close()
  })

  it('ends the view when the session is ended elsewhere: the server closes the worker’s connection and refuses it again', async () => {
    const { context, page } = await phone()
    // A script error while the view ends would leave a signed-out phone on an empty round (it did: Leaflet's second remove).
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await signIn(page)
    await expect.poll(() => page.locator('#conn').textContent()).toBe('live')
    expect(page.workers().map((w) => new URL(w.url()).pathname)).toContainEqual(expect.stringMatching(/^\/assets\/live-worker-/))
    // Nothing the page itself asks of the API gets through from here on: only the connection can tell it.
    await page.route('**/api/**', (r) => r.abort())
    // An admin changes Rowan's grants (the same ones): they are signed out everywhere, their open connection included.
    const res = await admin(`/api/people/${crewId}/grants`, { method: 'PUT', body: { grants: [{ role: 'crew', areas: ['riverside'] }] } })
    expect(res.status).toBe(200)
    // The next check of open connections closes it; the worker asks again, is refused, and the page says so.
    await page.getByText('Your session has ended. Sign in again.').waitFor({ timeout: 15_000 })
    expect(await page.locator('#crew-view').isHidden()).toBe(true)
    expect(errors).toEqual([])
    await context.close()
  })
})
