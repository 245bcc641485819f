import type { Browser, Page } from 'playwright-core'
import { binReading, type LoadDevice, steadyLoad } from './load.ts'
import { noteSecret } from './log-capture.ts'
import { putArea } from './people.ts'
import type { TestService } from './service.ts'
import { connectDevice, telemetryTopic, waitFor } from './service.ts'
import { createPerson, openPage, PHONE, signIn } from './web.ts'

/**
 * A city-sized fleet for the crew view's speed (issue 11, acceptance 3): 2,000 bins, 500 boilers and
 * 100 meters, every bin with a fill, and a crew member whose area covers them all. Shared by the
 * browser test (what must hold) and `npm run bench:web` (how fast, over rounds).
 */
export interface CrewFleet {
  crew: { email: string; password: string }
  /** The top of the crew's list now (most urgent first): their rows are drawn at once. Live loads move bins down it. */
  top(): Promise<LoadDevice[]>
  mqttUrl: string
}

export async function setupCrewFleet(svc: TestService, size = { bins: 2000, boilers: 500, meters: 100 }, topN = 200): Promise<CrewFleet> {
  const registry = svc.service.registry
  const mqttUrl = `mqtt://127.0.0.1:${svc.service.broker.port}`
  await putArea(registry, { id: 'borough', name: 'The borough', kind: 'ward', sites: ['streets', 'estates', 'civic'] })
  const bins: LoadDevice[] = []
  // Straight into the registry: 2,600 HTTP calls would only measure the set-up.
  const provision = async (n: number, type: 'bin' | 'boiler' | 'meter', site: string, extra: (i: number) => object) => {
    for (let i = 0; i < n; i += 100)
      await Promise.all(
        Array.from({ length: Math.min(100, n - i) }, async (_, k) => {
          const j = i + k
          const r = await registry.devices.provision({ id: `${type}-${j}`, type, name: `${type} ${j}`, site, ...extra(j) })
          if (!r.ok) throw new Error(`provision ${type}-${j}: ${r.code}`)
          if (type === 'bin') bins.push({ id: `${type}-${j}`, secret: r.secret, site, type })
        }),
      )
  }
  await provision(size.bins, 'bin', 'streets', (i) => ({
    name: `${i} High Street`,
    latitude: 51.4 + (i % 50) * 0.001,
    longitude: -0.3 + Math.floor(i / 50) * 0.001,
  }))
  await provision(size.boilers, 'boiler', 'estates', (i) => ({ uprn: String(100_000_000 + i) }))
  await provision(size.meters, 'meter', 'civic', () => ({}))
  // Every bin has a fill, older than any live reading to come (steadyLoad starts ten minutes back).
  const at = Date.now() - 20 * 60_000
  for (let i = 0; i < bins.length; i += 100)
    await Promise.all(
      bins.slice(i, i + 100).map(async (b, k) => {
        const c = await connectDevice(mqttUrl, b.id, b.secret)
        await c.publishAsync(telemetryTopic(b), binReading(at, ((i + k) % 100) / 100), { qos: 1 })
        await c.endAsync()
      }),
    )
  const crew = { email: 'speedy.crew@council.example', password: 'gravel lorry dawn kestrel' }
  noteSecret(crew.password)
  await createPerson(registry, { ...crew, name: 'Speedy Crew', grants: [{ role: 'crew', areas: ['borough'] }] })
  await waitFor(async () => {
    const res = await svc.api('/api/crew/today')
    const t = (await res.json()) as { bins: { id: string; fill: number | null }[] }
    return t.bins.length === size.bins && t.bins.every((b) => b.fill !== null)
  }, 60_000)
  const byId = new Map(bins.map((b) => [b.id, b]))
  const top = async () => {
    const t = (await (await svc.api('/api/crew/today')).json()) as { bins: { id: string }[] }
    return t.bins.slice(0, topN).map((b) => byId.get(b.id)!)
  }
  return { crew, top, mqttUrl }
}

// Chromium's long-task entries since the page started (buffered), for reading back.
const WATCH_LONG_TASKS = `
  window.__long = []
  new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push({ start: e.startTime, end: e.startTime + e.duration }) })
    .observe({ type: 'longtask', buffered: true })
`
// When the first "Collected" button was first painted, and when the map had started (or a large
// round's overview had drawn every bin), by the page's
// own clock. The page says so on the console, and the harness waits for that: a locator or an
// evaluate makes Playwright inject its own scripts into the page, and compiling those on a CPU
// slowed 4× takes the main thread for hundreds of milliseconds just as the app starts, which the
// figure would then count as the app's. Looked for once a frame, where the frame lays the page out
// anyway (a MutationObserver that measured on every change forced extra layouts inside the app's own
// task: 30–75 ms of it at 4×); the time is taken once that frame is done, so it counts the paint too.
const WATCH_FIRST_ROW = `
  window.__shown = 0
  let seen = false
  let map = false
  const frame = () => {
    if (!seen) {
      const b = document.querySelector('#crew-list > li button.collect')
      if (b && b.getClientRects().length > 0 && getComputedStyle(b).visibility !== 'hidden') {
        seen = true
        const after = new MessageChannel()
        after.port1.onmessage = () => {
          window.__shown = performance.now()
          console.debug('sp:shown')
        }
        after.port2.postMessage(0)
      }
    }
    // Leaflet in, or a large round's overview drawn with the whole list (the summary says how many).
    const whole = /^(\\d+) bins?\\. Most urgent first\\.$/.exec(document.getElementById('crew-summary')?.textContent ?? '')
    const overview = document.querySelector('#crew-map canvas.crew-map-preview')
    if (!map && (document.querySelector('#crew-map.leaflet-container') || (whole && overview?.dataset.bins === whole[1]))) {
      map = true
      console.debug('sp:map')
    }
    if (!seen || !map) requestAnimationFrame(frame)
  }
  requestAnimationFrame(frame)
`
/** Waits for the page's own console signal, without putting anything into the page. */
const signal = (page: Page, text: string) => page.waitForEvent('console', { predicate: (m) => m.text() === text, timeout: 30_000 })
type Task = { start: number; end: number }

export interface LoadFigures {
  /** From navigation to the first "Collected" button on screen. */
  shownMs: number
  /** Shown, and then no long task starting within the next 500 ms (its end, if one did). */
  interactiveMs: number
  /** The same phone coming back once more, with the app's files in its cache (a crew's next morning). */
  warm: { shownMs: number; interactiveMs: number }
  jsFiles: number
  /** Compressed bytes of JavaScript on the wire, and decoded. */
  jsBytes: number
  jsDecodedBytes: number
  problems: string[]
  rows: number
}

/** One visit to the crew view, throttled as set up, timed by the page's own clock. */
async function visit(page: Page, url: string): Promise<{ shownMs: number; interactiveMs: number }> {
  const shown = signal(page, 'sp:shown')
  const mapped = signal(page, 'sp:map')
  await page.goto(`${url}/`, { waitUntil: 'commit' })
  await shown
  // The map's code arrives after the list: counted only once it is in, so no chunk is missed; the
  // figures are read after the quiet window, so reading them is not counted either.
  await mapped
  await page.waitForTimeout(2_000)
  const shownMs = (await page.evaluate(`window.__shown - (performance.getEntriesByType('navigation')[0]?.startTime ?? 0)`)) as number
  if (!(shownMs > 0)) throw new Error('the page signalled its first row but did not record when')
  await page.locator('#crew-list > li button.collect').first().waitFor({ state: 'visible' })
  const long = (await page.evaluate('window.__long')) as Task[]
  const busyUntil = long.filter((t) => t.start < shownMs + 500).reduce((m, t) => Math.max(m, t.end), 0)
  return { shownMs, interactiveMs: Math.max(shownMs, busyUntil) }
}

/**
 * A crew's phone coming back to the view (its cookie and storage from an earlier sign-in, nothing
 * cached) on a slow connection: CDP network 1.6 Mbit/s down, 750 kbit/s up, 150 ms latency; CPU 4× slower.
 * Then once more, as the next morning: the app's files in the cache, the page and the data fetched again.
 */
export async function measureCrewLoad(browser: Browser, url: string, crew: CrewFleet['crew']): Promise<LoadFigures> {
  const first = await openPage(browser, PHONE)
  await signIn(first.page, url, crew, "Today's round")
  const state = await first.context.storageState()
  await first.context.close()

  const { context, page, problems } = await openPage(browser, PHONE, state)
  try {
    await page.addInitScript({ content: WATCH_LONG_TASKS })
    await page.addInitScript({ content: WATCH_FIRST_ROW })
    const cdp = await context.newCDPSession(page)
    await cdp.send('Network.enable')
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 150,
      downloadThroughput: 200_000,
      uploadThroughput: 93_750,
    })
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 })
    const cold = await visit(page, url)
    const js = (await page.evaluate(`performance.getEntriesByType('resource')
      .filter((e) => e.name.endsWith('.js')).map((e) => [e.encodedBodySize, e.decodedBodySize])`)) as [number, number][]
    const rows = await page.locator('#crew-list > li').count()
    // Each page records its own violations: read the first one's before leaving it.
    const seen = await problems()
    await page.goto('about:blank')
    const warm = await visit(page, url)
    return {
      ...cold,
      warm,
      jsFiles: js.length,
      jsBytes: js.reduce((s, e) => s + e[0], 0),
      jsDecodedBytes: js.reduce((s, e) => s + e[1], 0),
      problems: [...new Set([...seen, ...(await problems())])],
      rows,
    }
  } finally {
    await context.close()
  }
}

export interface LiveFigures {
  sent: number
  acked: number
  longTasks: number[]
  /** The first live bin's fill before and after, as its row showed it. */
  before: string | null
  after: string | null
  problems: string[]
}

/** A signed-in crew phone while `rate` readings a second arrive for the top of its list, for `seconds`. */
export async function measureCrewLive(
  browser: Browser,
  url: string,
  fleet: CrewFleet,
  rate: number,
  seconds: number,
): Promise<LiveFigures> {
  const { context, page, problems } = await openPage(browser, PHONE)
  try {
    await page.addInitScript({ content: WATCH_LONG_TASKS })
    await signIn(page, url, fleet.crew, "Today's round")
    await waitFor(async () => (await page.locator('#conn').textContent()) === 'live', 10_000)
    // The first render's work done, count only what the live updates cause.
    await page.waitForTimeout(1_000)
    await page.evaluate('window.__long = []')
    const top = await fleet.top()
    const fillOf = () => page.locator(`#crew-list > li[data-device-id="${top[0]!.id}"]`).getAttribute('data-fill')
    const before = await fillOf()
    const load = await steadyLoad(fleet.mqttUrl, top, rate)
    await new Promise((r) => setTimeout(r, seconds * 1000))
    await load.stop()
    await load.close()
    await waitFor(async () => (await fillOf()) !== before, 5_000).catch(() => {})
    const long = (await page.evaluate('window.__long')) as Task[]
    return {
      sent: load.stats.sent,
      acked: load.stats.acked,
      longTasks: long.map((t) => Math.round(t.end - t.start)),
      before,
      after: await fillOf(),
      problems: await problems(),
    }
  } finally {
    await context.close()
  }
}

/**
 * Two rounds for the notification tests: the market round with Market Cross (the bin that will
 * catch fire) and the hill round with Hill Top. Returns Market Cross's secret.
 */
export async function marketAndHill(svc: TestService): Promise<string> {
  const registry = svc.service.registry
  await putArea(registry, { id: 'market-round', name: 'Market round', kind: 'round', sites: ['market'] })
  await putArea(registry, { id: 'hill-round', name: 'Hill round', kind: 'round', sites: ['hill'] })
  const { secret } = await svc.provision({
    id: 'bin-cross',
    type: 'bin',
    site: 'market',
    name: 'Market Cross',
    latitude: 51.41,
    longitude: -0.3,
  })
  await svc.provision({ id: 'bin-top', type: 'bin', site: 'hill', name: 'Hill Top', latitude: 51.42, longitude: -0.31 })
  return secret
}
