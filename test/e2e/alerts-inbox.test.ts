import { randomBytes } from 'node:crypto'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert } from '#devices'
import type { Service } from '../../service/service.ts'
import { keyboardAudit, launchChromium } from '../helpers/browser.ts'
import { putArea } from '../helpers/people.ts'
import { startService, type TestService } from '../helpers/service.ts'
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

const MIN = 60_000
const crew = { email: 'casey.crew@council.example', password: 'market barrow lantern drizzle', name: 'Casey Crew' }
const viewer = { email: 'vic.viewer@council.example', password: 'quiet gallery window pigeon', name: 'Vic Viewer' }
const admin = { email: 'ada.admin@council.example', password: 'ledger crane harbour thistle', name: 'Ada Admin' }

describe('the alerts inbox in Chromium (issue 11, item 4)', () => {
  let svc: TestService
  let service: Service
  let browser: Browser
  let url = ''
  const token = randomBytes(32).toString('base64url')
  let binA: Alert
  let fireA: Alert
  let boilerA: Alert

  const api = (path: string, init: { method?: string; body?: unknown } = {}) =>
    fetch(`${url}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${token}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    })
  const raise = async (deviceId: string, deviceType: string, site: string, rule: { id: string; title: string }, ts: number) => {
    const a = await service.registry.alerts.raise({ deviceId, deviceType, site, rule: { ...rule, severity: 'warning' }, value: 1, ts })
    if (!a) throw new Error(`no alert raised for ${deviceId}`)
    return a
  }

  beforeAll(async () => {
    requireBuiltWebApp()
    svc = await startService({ MQTT_DEVICE_RATE: '0' }, { webRoot: WEB_ROOT, token })
    service = svc.service
    url = service.httpUrl
    const registry = service.registry
    await putArea(registry, { id: 'market', name: 'Market ward', kind: 'ward', sites: ['market'] })
    await putArea(registry, { id: 'hill', name: 'Hill ward', kind: 'ward', sites: ['hill'] })
    const devices = [
      { id: 'bin-a', type: 'bin', name: 'Market Street', site: 'market' },
      { id: 'bin-b', type: 'bin', name: 'Hill Top', site: 'hill' },
      { id: 'meter-a', type: 'meter', name: 'Town Hall', site: 'market' },
      { id: 'boiler-a', type: 'boiler', name: '14 Hawthorn House', site: 'market' },
    ]
    for (const d of devices) {
      const res = await api('/api/devices', { method: 'POST', body: d })
      expect(res.status).toBe(201)
      await res.json()
    }
    const now = Date.now()
    // A fire that lasted moments: raised and cleared by the readings before anyone looked.
    fireA = await raise('bin-a', 'bin', 'market', { id: 'bin-fire', title: 'Possible bin fire' }, now - 30 * MIN)
    expect(await registry.alerts.clear({ deviceId: 'bin-a', ruleId: 'bin-fire', at: now - 30 * MIN + 44, value: 20 })).toMatchObject({
      status: 'cleared',
    })
    binA = await raise('bin-a', 'bin', 'market', { id: 'bin-full', title: 'Bin full' }, now - 10 * MIN)
    // Sent to the waste contractor over Open311 (issue 14), who has it open.
    await registry.open311.submitted({ alertId: binA.id, serviceCode: 'WM-FULL', serviceRequestId: '5512', token: null })
    await registry.open311.checked(binA.id, {
      status: 'open',
      agencyResponsible: 'Veolia',
      updatedAt: new Date(now - 5 * MIN).toISOString(),
    })
    await raise('bin-b', 'bin', 'hill', { id: 'bin-full', title: 'Bin full' }, now - 9 * MIN)
    await raise('meter-a', 'meter', 'market', { id: 'energy-out-of-hours', title: 'Lights left on out of hours' }, now - 8 * MIN)
    boilerA = await raise('boiler-a', 'boiler', 'market', { id: 'boiler-pressure-low', title: 'Boiler pressure low' }, now - 7 * MIN)
    await createPerson(registry, { ...crew, grants: [{ role: 'crew', areas: ['market'] }] })
    await createPerson(registry, { ...viewer, grants: [{ role: 'viewer', areas: null }] })
    await createPerson(registry, { ...admin, grants: [{ role: 'admin', areas: null }] })
    browser = await launchChromium()
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await svc?.close()
  })

  const titles = (page: Page) => page.locator('.inbox-row .inbox-title').allTextContents()
  const row = (page: Page, id: string) => page.locator(`.inbox-row[data-alert-id="${id}"]`)
  const live = (page: Page) => expect.poll(() => page.locator('#conn').textContent()).toBe('live')

  it("shows each role only its own alerts, in words: crew sees its area's bins, a viewer bins and meters but no people and no actions", async () => {
    const c = await openPage(browser, PHONE)
    await signIn(c.page, url, crew, 'Alerts', '#alerts')
    await expect.poll(() => titles(c.page)).toEqual(['Bin full, Market Street'])
    const card = row(c.page, binA.id)
    expect(await card.locator('.inbox-sev').textContent()).toBe('Warning')
    expect(await card.locator('.inbox-meta').textContent()).toMatch(/^Market ward · Raised (\w{3} )?\d\d:\d\d$/)
    expect(await card.locator('.inbox-state').textContent()).toBe('Open, not yet acknowledged')
    expect(await c.page.locator('.inbox-count').textContent()).toBe('1 open alert, newest first.')
    // All: the cleared fire is there too, newest first; still nothing from Hill ward or the meter.
    await c.page.getByRole('button', { name: 'All', exact: true }).click()
    await expect.poll(() => titles(c.page)).toEqual(['Bin full, Market Street', 'Possible bin fire, Market Street'])
    expect(c.page.url()).toMatch(/#alerts\/all$/)
    await screenshot(c.page, 'inbox-list-crew-phone')
    expect(await c.problems()).toEqual([])
    await c.context.close()

    const v = await openPage(browser, DESKTOP)
    await signIn(v.page, url, viewer, 'Alerts', '#alerts')
    await expect
      .poll(async () => (await titles(v.page)).sort())
      .toEqual(['Bin full, Hill Top', 'Bin full, Market Street', 'Lights left on out of hours, Town Hall'])
    expect(await v.page.getByRole('button', { name: /^(Acknowledge|Assign|Snooze|Unsnooze|Resolve|Reopen|Open a case): / }).count()).toBe(0)
    await v.page.getByRole('link', { name: 'Bin full, Market Street' }).click()
    await v.page.getByRole('heading', { name: 'Bin full, Market Street' }).waitFor()
    await v.page.getByRole('heading', { name: 'History, oldest first' }).waitFor()
    expect(await v.page.locator('.inbox-facts dt:text-is("Contractor") + dd').textContent()).toMatch(
      /^With Veolia: request 5512, status open, updated (\w{3} )?\d\d:\d\d$/,
    )
    expect(await v.page.locator('.inbox-action').count()).toBe(0)
    expect(await v.page.locator('#view-alerts button').count()).toBe(0)
    expect(await v.page.locator('.inbox-history li').allTextContents()).toEqual([expect.stringMatching(/^(\w{3} )?\d\d:\d\d Raised$/)])
    await screenshot(v.page, 'inbox-detail-viewer-desktop')
    expect(await v.problems()).toEqual([])
    await v.context.close()
  })

  it('crew acknowledges with a comment by keyboard alone; a viewer sees it live, without names; resolved, it stays findable', async () => {
    const v = await openPage(browser, DESKTOP)
    await signIn(v.page, url, viewer, 'Alerts', '#alerts')
    await live(v.page)
    await row(v.page, binA.id).waitFor()
    await v.page.evaluate('window.__sameDocument = true')

    const c = await openPage(browser, PHONE)
    await signIn(c.page, url, crew, 'Alerts', '#alerts')
    await row(c.page, binA.id).waitFor()
    // To the alert's page, then its Acknowledge form, with the keyboard only.
    expect(await tabTo(c.page, /^Bin full, Market Street$/)).toBe(true)
    await c.page.keyboard.press('Enter')
    await c.page.getByRole('heading', { name: 'Bin full, Market Street' }).waitFor()
    await live(c.page)
    const ack = c.page.getByRole('button', { name: 'Acknowledge: Bin full, Market Street', exact: true })
    await ack.waitFor()
    expect((await ack.boundingBox())!.height).toBeGreaterThanOrEqual(44)
    await screenshot(c.page, 'inbox-detail-crew-phone')
    expect(await tabTo(c.page, /^Acknowledge: Bin full, Market Street$/)).toBe(true)
    await c.page.keyboard.press('Shift+Tab')
    expect(await c.page.evaluate(`document.activeElement.labels[0].textContent`)).toBe('Comment (optional)')
    await c.page.keyboard.type('On my way with the van')
    await c.page.keyboard.press('Enter')
    await expect.poll(() => c.page.locator('#view-alerts [role="alert"]').textContent()).toBe('Acknowledged.')
    await expect
      .poll(() => c.page.locator('.inbox-history li').allTextContents())
      .toEqual([
        expect.stringMatching(/^(\w{3} )?\d\d:\d\d Raised$/),
        expect.stringMatching(/^(\w{3} )?\d\d:\d\d Acknowledged by Casey Crew \(you\) \(open → acknowledged\)On my way with the van$/),
      ])
    expect(await ack.isHidden()).toBe(true)

    // The viewer's list changed in place: the state, but not who or what they wrote.
    await expect.poll(() => row(v.page, binA.id).locator('.inbox-state').textContent()).toMatch(/^Acknowledged at (\w{3} )?\d\d:\d\d$/)
    expect(await row(v.page, binA.id).textContent()).not.toMatch(/Casey|van/)
    expect(await v.page.evaluate('window.__sameDocument')).toBe(true)

    // Resolved with a note: it leaves the viewer's open list live and is under Resolved, found by its words.
    await c.page.getByLabel('How it was dealt with').fill('Emptied at 10:15')
    await c.page.getByRole('button', { name: 'Resolve: Bin full, Market Street', exact: true }).click()
    await expect.poll(() => c.page.locator('#view-alerts [role="alert"]').textContent()).toBe('Resolved.')
    await c.page.getByRole('button', { name: 'Reopen: Bin full, Market Street', exact: true }).waitFor()
    await expect.poll(() => row(v.page, binA.id).count()).toBe(0)
    expect(await v.page.evaluate('window.__sameDocument')).toBe(true)

    await c.page.getByRole('link', { name: 'Back to all alerts' }).click()
    await c.page.getByRole('button', { name: 'Resolved', exact: true }).click()
    await expect.poll(() => titles(c.page)).toEqual(['Bin full, Market Street'])
    expect(await row(c.page, binA.id).locator('.inbox-state').textContent()).toMatch(/^Resolved at (\w{3} )?\d\d:\d\d$/)
    await c.page.getByLabel(/^Find an alert/).fill('emptied')
    expect(await row(c.page, binA.id).isVisible()).toBe(true)
    await c.page.getByLabel(/^Find an alert/).fill('fire')
    expect(await row(c.page, binA.id).isHidden()).toBe(true)
    expect(await c.page.locator('.inbox-count').textContent()).toBe('Showing 0 of 1 resolved alert.')
    expect(await c.problems()).toEqual([])
    expect(await v.problems()).toEqual([])
    await c.context.close()
    await v.context.close()
  })

  it('keeps a cleared bin fire findable under Cleared, with its history, and lists a newly raised alert live', async () => {
    const v = await openPage(browser, PHONE)
    await signIn(v.page, url, viewer, 'Alerts', '#alerts/cleared')
    await live(v.page)
    expect(await v.page.getByRole('button', { name: 'Cleared', exact: true }).getAttribute('aria-pressed')).toBe('true')
    await v.page.getByLabel(/^Find an alert/).fill('fire market')
    await expect.poll(() => titles(v.page)).toEqual(['Possible bin fire, Market Street'])
    expect(await row(v.page, fireA.id).locator('.inbox-state').textContent()).toMatch(/^Cleared by the readings at (\w{3} )?\d\d:\d\d$/)
    await screenshot(v.page, 'inbox-list-cleared-phone')
    await v.page.getByRole('link', { name: 'Possible bin fire, Market Street' }).click()
    await v.page.getByRole('heading', { name: 'History, oldest first' }).waitFor()
    expect(await v.page.locator('.inbox-history li').allTextContents()).toEqual([
      expect.stringMatching(/^(\w{3} )?\d\d:\d\d Raised$/),
      expect.stringMatching(/^(\w{3} )?\d\d:\d\d Cleared by the readings \(open → cleared\)$/),
    ])

    // A new alert arrives on the open list without a reload, at the top.
    await v.page.getByRole('link', { name: 'Back to all alerts' }).click()
    await v.page.getByRole('heading', { name: 'Alerts', exact: true }).waitFor()
    await live(v.page)
    await expect.poll(() => titles(v.page)).toHaveLength(2)
    const fresh = await raise('bin-b', 'bin', 'hill', { id: 'bin-knocked-over', title: 'Bin knocked over' }, Date.now())
    service.bus.emit('alert:raised', fresh)
    await expect
      .poll(() => titles(v.page))
      .toEqual(['Bin knocked over, Hill Top', 'Lights left on out of hours, Town Hall', 'Bin full, Hill Top'])
    expect(await v.problems()).toEqual([])
    await v.context.close()
  })

  it('has no axe-core WCAG 2.2 A/AA violations on the list and an alert page at 360×640 and 1366×900, and fits 320 px', async () => {
    for (const [size, viewport] of [
      ['phone', PHONE],
      ['desktop', DESKTOP],
    ] as const) {
      const a = await openPage(browser, viewport)
      await signIn(a.page, url, admin, 'Alerts', '#alerts/all')
      await expect.poll(async () => (await titles(a.page)).length).toBe(6)
      expect(await axeViolations(a.page)).toEqual([])
      await screenshot(a.page, `inbox-list-${size}`)
      if (size === 'phone') {
        await a.page.setViewportSize({ width: 320, height: 640 })
        expect(await scrollsSideways(a.page)).toBe(false)
      }
      await a.page.getByRole('link', { name: 'Lights left on out of hours, Town Hall' }).click()
      await a.page.getByRole('button', { name: 'Acknowledge: Lights left on out of hours, Town Hall', exact: true }).waitFor()
      await a.page.getByRole('heading', { name: 'History, oldest first' }).waitFor()
      // An admin can give it to a person or a team that sees energy data in its area.
      const options = await a.page.getByLabel('Assign to').locator('option').allTextContents()
      expect(options).toEqual(expect.arrayContaining(['Ada Admin', 'Energy team, Market ward', 'Energy team, all areas']))
      expect(options).not.toContain('Crew team, Market ward')
      expect(await axeViolations(a.page)).toEqual([])
      if (size === 'phone') expect(await scrollsSideways(a.page)).toBe(false)
      await screenshot(a.page, `inbox-detail-${size}`)
      // A housing alert's page, with the form that opens an Awaab's Law case.
      await a.page.goto(`${url}/#alerts/${boilerA.id}`)
      await a.page.getByRole('button', { name: 'Open a case: Boiler pressure low, 14 Hawthorn House', exact: true }).waitFor()
      expect(await axeViolations(a.page)).toEqual([])
      if (size === 'phone') expect(await scrollsSideways(a.page)).toBe(false)
      await screenshot(a.page, `inbox-detail-housing-${size}`)
      expect(await a.problems()).toEqual([])
      await a.context.close()
    }
  })

  it("an admin assigns, snoozes and opens a case; a refusal shows the server's words", async () => {
    const a = await openPage(browser, DESKTOP)
    const label = 'Boiler pressure low, 14 Hawthorn House'
    await signIn(a.page, url, admin, label, `#alerts/${boilerA.id}`)
    const message = a.page.locator('#view-alerts [role="alert"]')
    await a.page.getByRole('heading', { name: 'History, oldest first' }).waitFor()

    // Casey is in the directory but sees no housing data: the server refuses and says why.
    await a.page.getByLabel('Assign to').selectOption({ label: 'Casey Crew' })
    await a.page.getByRole('button', { name: `Assign: ${label}`, exact: true }).click()
    await expect
      .poll(() => message.textContent())
      .toMatch(/^cannot assign to person:[0-9a-f-]{36}: no active person with that id who can see boiler alerts at market$/)
    await a.page.getByLabel('Assign to').selectOption({ label: 'Housing team, Market ward' })
    await a.page.getByRole('button', { name: `Assign: ${label}`, exact: true }).click()
    await expect.poll(() => message.textContent()).toBe('Assigned.')
    await expect.poll(() => a.page.locator('.inbox-facts').textContent()).toContain('Assigned toHousing team, Market ward')

    await a.page.getByLabel('How long to snooze').selectOption({ label: 'For 4 hours' })
    await a.page.getByRole('button', { name: `Snooze: ${label}`, exact: true }).click()
    await expect.poll(() => message.textContent()).toBe('Snoozed.')
    await a.page.getByRole('button', { name: `Unsnooze: ${label}`, exact: true }).waitFor()
    expect(await a.page.getByRole('button', { name: `Snooze: ${label}`, exact: true }).isHidden()).toBe(true)
    await expect
      .poll(() => a.page.locator('.inbox-history li').allTextContents())
      .toEqual([
        expect.stringMatching(/^(\w{3} )?\d\d:\d\d Raised$/),
        expect.stringMatching(/^(\w{3} )?\d\d:\d\d Assigned to Housing team, Market ward by Ada Admin \(you\)$/),
        expect.stringMatching(/^(\w{3} )?\d\d:\d\d Snoozed until (\w{3} )?\d\d:\d\d by Ada Admin \(you\)$/),
      ])

    await a.page.getByLabel('Emergency: make safe within 24 hours').check()
    await a.page.getByRole('button', { name: `Open a case: ${label}`, exact: true }).click()
    await expect.poll(() => message.textContent()).toBe("Case opened (emergency, excess-cold); its clocks are on the home's page.")
    const cases = (await (await api(`/api/cases?alertId=${boilerA.id}`)).json()) as { alertId: string; category: string; hazard: string }[]
    expect(cases).toEqual([expect.objectContaining({ alertId: boilerA.id, category: 'emergency', hazard: 'excess-cold' })])
    // One open case per alert: a second is refused in the server's words.
    await a.page.getByRole('button', { name: `Open a case: ${label}`, exact: true }).click()
    await expect.poll(() => message.textContent()).toMatch(/already has an open case/)
    await screenshot(a.page, 'inbox-detail-actions-desktop')
    // The refusals were answers the page expected and showed; nothing else went wrong.
    expect((await a.problems()).sort()).toEqual([
      `400 /api/alerts/${boilerA.id}/assign`,
      '409 /api/cases',
      'console: Failed to load resource: the server responded with a status of 400 (Bad Request)',
      'console: Failed to load resource: the server responded with a status of 409 (Conflict)',
    ])
    await a.context.close()
  })

  it('works from the keyboard alone: every control on the list and on an alert page reached, focus shown; assign, snooze and resolve by Tab and Enter', async () => {
    const a = await openPage(browser, DESKTOP)
    await signIn(a.page, url, admin, 'Alerts', '#alerts/all')
    await expect.poll(async () => (await titles(a.page)).length).toBe(6)
    // Severity in a word beside its colour on every card.
    const sev = (await a.page.evaluate(
      `[...document.querySelectorAll('.inbox-row')].map((r) => [r.className.match(/sev-(\\w+)/)[1], r.querySelector('.inbox-sev').textContent])`,
    )) as [string, string][]
    expect(sev.length).toBe(6)
    for (const [severity, word] of sev) expect(word).toBe(severity[0]!.toUpperCase() + severity.slice(1))
    const list = await keyboardAudit(a.page)
    expect(list.problems).toEqual([])
    expect(list.reached).toEqual(expect.arrayContaining(['a "Bin full, Hill Top"', 'button "Resolved"', 'button "Cleared"']))

    // The housing alert's page, every form there: assign, unsnooze (it was snoozed), resolve, open a case.
    await a.page.goto(`${url}/#alerts/${boilerA.id}`)
    await a.page.getByRole('heading', { name: 'History, oldest first' }).waitFor()
    const housing = await keyboardAudit(a.page)
    expect(housing.problems).toEqual([])
    const label = 'Boiler pressure low, 14 Hawthorn House'
    expect(housing.reached).toEqual(
      expect.arrayContaining([
        `button "Assign: ${label}"`,
        `button "Unsnooze: ${label}"`,
        `button "Resolve: ${label}"`,
        `button "Open a case: ${label}"`,
      ]),
    )

    // Hill Top's full bin, by keyboard only: Tab, arrow keys in a list, typing, Enter and Space.
    const open = (await (await api('/api/alerts?status=open&limit=1000')).json()) as Alert[]
    const hill = open.find((x) => x.deviceId === 'bin-b' && x.ruleId === 'bin-full')!
    await a.page.goto(`${url}/#alerts/${hill.id}`)
    await a.page.getByRole('heading', { name: 'History, oldest first' }).waitFor()
    const name = 'Bin full, Hill Top'
    const audit = await keyboardAudit(a.page)
    expect(audit.problems).toEqual([])
    for (const verb of ['Acknowledge', 'Assign', 'Snooze', 'Resolve']) expect(audit.reached).toContain(`button "${verb}: ${name}"`)
    const message = a.page.locator('#view-alerts [role="alert"]')
    const focusedIs = (sel: string) => a.page.evaluate(`document.activeElement.matches(${JSON.stringify(sel)})`) as Promise<boolean>
    /** Tab to the action's button, then back to its field. */
    const toFieldOf = async (verb: string) => {
      await a.page.locator('#view-alerts h2').first().focus()
      expect(await tabTo(a.page, new RegExp(`^${verb}: ${name}$`)), verb).toBe(true)
      await a.page.keyboard.press('Shift+Tab')
    }
    /** Arrow down a focused list until it shows `text`. */
    const choose = async (text: string) => {
      for (let i = 0; i < 30 && (await a.page.evaluate('document.activeElement.selectedOptions[0].text')) !== text; i++)
        await a.page.keyboard.press('ArrowDown')
      expect(await a.page.evaluate('document.activeElement.selectedOptions[0].text')).toBe(text)
    }

    await toFieldOf('Assign')
    expect(await focusedIs('select')).toBe(true)
    await choose('Ada Admin')
    await a.page.keyboard.press('Tab')
    await a.page.keyboard.press('Enter')
    await expect.poll(() => message.textContent()).toBe('Assigned.')
    await expect.poll(() => a.page.locator('.inbox-facts').textContent()).toContain('Assigned toAda Admin')

    await toFieldOf('Snooze')
    expect(await focusedIs('select')).toBe(true)
    await choose('For 4 hours')
    await a.page.keyboard.press('Tab')
    await a.page.keyboard.press('Space')
    await expect.poll(() => message.textContent()).toBe('Snoozed.')
    await a.page.getByRole('button', { name: `Unsnooze: ${name}`, exact: true }).waitFor()

    await toFieldOf('Resolve')
    expect(await focusedIs('input[name="note"]')).toBe(true)
    await a.page.keyboard.type('Emptied on the afternoon round')
    await a.page.keyboard.press('Tab')
    await a.page.keyboard.press('Enter')
    await expect.poll(() => message.textContent()).toBe('Resolved.')
    await a.page.getByRole('button', { name: `Reopen: ${name}`, exact: true }).waitFor()
    const done = (await (await api(`/api/alerts/${hill.id}`)).json()) as Alert & { assignee?: unknown }
    expect(done.status).toBe('resolved')
    // The history is fetched again after the action: it may still show the old one for a moment (CI).
    await expect
      .poll(() => a.page.locator('.inbox-history li').allTextContents())
      .toEqual([
        expect.stringMatching(/^(\w{3} )?\d\d:\d\d Raised$/),
        expect.stringMatching(/^(\w{3} )?\d\d:\d\d Assigned to Ada Admin \(you\) by Ada Admin \(you\)$/),
        expect.stringMatching(/^(\w{3} )?\d\d:\d\d Snoozed until (\w{3} )?\d\d:\d\d by Ada Admin \(you\)$/),
        expect.stringMatching(/^(\w{3} )?\d\d:\d\d Resolved by Ada Admin \(you\).*Emptied on the afternoon round$/),
      ])
    // The page after the actions, the reopen form now showing: still all by keyboard.
    expect((await keyboardAudit(a.page)).problems).toEqual([])
    await screenshot(a.page, 'inbox-detail-keyboard-desktop')
    expect(await a.problems()).toEqual([])
    await a.context.close()
  })

  it('keeps a cleared alert findable however many cleared after it: older ones a page at a time', async () => {
    // 320 fires raised and cleared at Hill Top after the Market Street one: it is no longer on the first page.
    const base = Date.now() - 20 * MIN
    for (let i = 0; i < 320; i++) {
      await raise('bin-b', 'bin', 'hill', { id: 'bin-fire', title: 'Possible bin fire' }, base + i * 1000)
      await service.registry.alerts.clear({ deviceId: 'bin-b', ruleId: 'bin-fire', at: base + i * 1000 + 10, value: 20 })
    }
    const a = await openPage(browser, DESKTOP)
    await signIn(a.page, url, admin, 'Alerts', '#alerts/cleared')
    await expect.poll(() => a.page.locator('.inbox-row').count()).toBe(300)
    expect(await row(a.page, fireA.id).count()).toBe(0)
    expect(await a.page.locator('.inbox-count').textContent()).toContain('Older ones follow with "Show older alerts".')
    const more = a.page.getByRole('button', { name: 'Show older alerts', exact: true })
    await more.click()
    // The rest in one more page, the oldest last, none twice; no further page.
    await expect.poll(() => a.page.locator('.inbox-row').count()).toBe(321)
    expect(await more.isHidden()).toBe(true)
    expect(await a.page.locator('.inbox-row').last().getAttribute('data-alert-id')).toBe(fireA.id)
    await a.page.getByLabel(/^Find an alert/).fill('fire market')
    await expect
      .poll(() => a.page.locator('.inbox-row:not([hidden]) .inbox-title').allTextContents())
      .toEqual(['Possible bin fire, Market Street'])
    expect(await a.page.locator('.inbox-count').textContent()).toMatch(/^Showing 1 of 321 cleared alerts\./)
    expect(await a.problems()).toEqual([])
    await a.context.close()
  })
})
