import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { QuarantineEntry } from '#devices'
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
  tabTo,
  WEB_ROOT,
} from '../helpers/web.ts'

const PAGES = ['devices', 'rounds', 'people', 'rules', 'quarantine', 'health'] as const
const TITLES: Record<(typeof PAGES)[number], string> = {
  devices: 'Devices',
  rounds: 'Rounds',
  people: 'People',
  rules: 'Rule overrides',
  quarantine: 'Quarantine',
  health: 'Service health',
}

describe('the admin pages in Chromium (issue 11, admin)', () => {
  let svc: TestService
  let browser: Browser
  let url = ''
  const admin = { email: 'ada.admin@council.example', password: 'lantern orchard kettle harbour' }
  const crew = { email: 'rowan.crew@council.example', password: 'towpath heron barge morning' }
  let noisy: { id: string; secret: string; site: string; type: string }
  let webCopy = ''

  beforeAll(async () => {
    requireBuiltWebApp()
    // A copy of the built app as it is now: another build emptying dist/ mid-run must not pull files from under the pages.
    webCopy = mkdtempSync(join(tmpdir(), 'sp-admin-web-'))
    cpSync(WEB_ROOT, webCopy, { recursive: true })
    svc = await startService({ MQTT_DEVICE_RATE: '0' }, { webRoot: webCopy })
    url = svc.url
    const registry = svc.service.registry
    await putArea(registry, { id: 'riverside', name: 'Riverside round', kind: 'round', sites: ['riverside'] })
    await createPerson(registry, { ...admin, name: 'Ada Admin', grants: [{ role: 'admin', areas: null }] })
    await createPerson(registry, { ...crew, name: 'Rowan Reed', grants: [{ role: 'crew', areas: ['riverside'] }] })
    // Something on each page: a bin on a round, an override, and a malformed reading in quarantine.
    noisy = await svc.provision({ id: 'bin-noisy', type: 'bin', name: 'Quay Steps', site: 'riverside' })
    const round = { id: 'riverside-round', name: 'Riverside', site: 'riverside', schedule: { weekdays: [1, 4], time: '06:30' } }
    const made = (await (await svc.api('/api/rounds', { method: 'POST', body: JSON.stringify(round) })).json()) as { id: string }
    expect(made.id).toBe('riverside-round')
    const bins = await svc.api('/api/rounds/riverside-round/bins', { method: 'PUT', body: JSON.stringify({ deviceIds: ['bin-noisy'] }) })
    expect(bins.status).toBe(200)
    await bins.text()
    const ov = await svc.api('/api/rules/overrides/site/riverside/bin-full', {
      method: 'PUT',
      body: JSON.stringify({ disabled: true, note: 'trial' }),
    })
    expect(ov.status).toBe(200)
    await ov.text()
    const client = await connectDevice(svc.mqttUrl, noisy.id, noisy.secret)
    await client.publishAsync(telemetryTopic(noisy), JSON.stringify({ readings: { fillingLevel: 'very full' } }), { qos: 1 })
    await client.endAsync()
    await waitFor(async () => ((await (await svc.api('/api/quarantine')).json()) as QuarantineEntry[]).length > 0, 10_000)
    browser = await launchChromium()
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await svc?.close()
    if (webCopy) rmSync(webCopy, { recursive: true, force: true })
  })

  /** Signs in through the form and waits for the menu: the person's landing view has opened. */
  const signInAs = async (page: Page, who: { email: string; password: string }, hash = '') => {
    // Generous: on two busy cores (the suite runs two files at once) a first view of a page has taken over 10 s.
    page.setDefaultTimeout(20_000)
    await page.goto(`${url}/${hash}`)
    await page.getByLabel('Email', { exact: true }).fill(who.email)
    await page.getByLabel('Password', { exact: true }).fill(who.password)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.locator('#nav-list a[aria-current="page"]').waitFor({ timeout: 15_000 })
  }
  const heading = (page: Page, name: string) => page.getByRole('heading', { level: 2, name, exact: true })
  /** Presses Tab until the field labelled `label` has focus: keyboard only, as a person without a mouse would. */
  const tabToField = async (page: Page, label: string) => {
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press('Tab')
      const focused = await page.evaluate("document.activeElement?.labels?.[0]?.textContent ?? ''")
      if (focused === label) return
    }
    throw new Error(`no field labelled ${label} reached with Tab`)
  }

  it('provisions a device by keyboard, shows its secret once with a QR code, the secret connects, and revoking refuses it', async () => {
    const { context, page, problems } = await openPage(browser, DESKTOP)
    const other = await openPage(browser, DESKTOP)
    let device: MqttClient | null = null
    try {
      await signInAs(page, admin)
      await expect(page.locator('#nav-list a[aria-current="page"]').textContent()).resolves.toBe('Alerts')
      await page.locator('#nav-list').getByRole('link', { name: 'Admin', exact: true }).click()
      await heading(page, 'Admin').waitFor()

      // A second admin has the device list open before the device exists.
      await signInAs(other.page, admin, '#admin/devices')
      await heading(other.page, 'Devices').waitFor()
      await other.page.getByText('1 device.').waitFor()

      expect(await tabTo(page, /^Devices$/)).toBe(true)
      await page.keyboard.press('Enter')
      await heading(page, 'Devices').waitFor()
      expect(await tabTo(page, /^Provision a device$/)).toBe(true)
      await page.keyboard.press('Enter')
      await tabToField(page, 'Device id')
      await page.keyboard.type('bin-hawthorn-14')
      await tabToField(page, 'Name or address')
      await page.keyboard.type('Bin, 14 Hawthorn House')
      await tabToField(page, 'Site')
      await page.keyboard.type('riverside')
      expect(await tabTo(page, /^Provision the device$/)).toBe(true)
      await page.keyboard.press('Enter')

      const panel = page.getByRole('region', { name: 'Secret for Bin, 14 Hawthorn House: shown once' })
      await panel.waitFor()
      await expect(panel.getByText('It will not be shown again').count()).resolves.toBe(1)
      const secret = await panel.getByLabel('Secret for bin-hawthorn-14').inputValue()
      expect(secret.length).toBeGreaterThanOrEqual(32)
      // The QR code is drawn: both dark and light modules, not an empty canvas.
      const canvas = panel.getByRole('img', { name: 'QR code with the connection details for Bin, 14 Hawthorn House' })
      await canvas.waitFor()
      const ink = (await page.evaluate(`(() => {
        const c = document.querySelector('.admin-qr canvas')
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data
        let dark = 0
        for (let i = 0; i < d.length; i += 4) if (d[i] < 128) dark++
        return { dark, all: d.length / 4 }
      })()`)) as { dark: number; all: number }
      expect(ink.dark).toBeGreaterThan(ink.all * 0.2)
      expect(ink.dark).toBeLessThan(ink.all * 0.8)
      expect(await axeViolations(page), 'secret shown').toEqual([])
      await screenshot(page, 'admin-devices-secret-desktop')
      await page.setViewportSize({ width: 320, height: 640 })
      expect(await scrollsSideways(page), 'secret and QR code at 320 px').toBe(false)
      await screenshot(page, 'admin-devices-secret-phone')
      await page.setViewportSize(DESKTOP)

      // The secret is the device's own: the broker accepts it.
      device = await connectDevice(svc.mqttUrl, 'bin-hawthorn-14', secret)
      // The second admin's list learns of it live, from the device's presence, without reloading.
      await other.page.getByRole('cell', { name: /^Bin, 14 Hawthorn House/ }).waitFor({ timeout: 10_000 })
      await other.page.getByText('2 devices.').waitFor()

      // Leaving the page drops it, not just hides it: nothing of it stays in the document.
      await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Alerts', exact: true }).click()
      await heading(page, 'Alerts').waitFor()
      expect(await page.content()).not.toContain(secret)
      await page.goBack()
      await heading(page, 'Devices').waitFor()

      // Shown once: after a reload it is nowhere on the page.
      await page.reload()
      await heading(page, 'Devices').waitFor()
      await page.getByText('2 devices.').waitFor()
      expect(await page.content()).not.toContain(secret)
      expect(await page.getByRole('region', { name: /Secret for/ }).count()).toBe(0)

      const closed = new Promise<void>((resolve) => device!.once('close', () => resolve()))
      // Revoked and confirmed by keyboard alone.
      expect(await tabTo(page, /^Revoke: Bin, 14 Hawthorn House$/)).toBe(true)
      await page.keyboard.press('Enter')
      expect(await tabTo(page, /^Yes, revoke: Bin, 14 Hawthorn House$/)).toBe(true)
      await page.keyboard.press('Space')
      await page.getByText('Bin, 14 Hawthorn House is revoked and disconnected.').waitFor()
      await closed
      await expect(connectDevice(svc.mqttUrl, 'bin-hawthorn-14', secret)).rejects.toThrow()
      await page.getByText('1 device.').waitFor()
      expect(await problems()).toEqual([])
      expect(await other.problems()).toEqual([])
    } finally {
      await device?.endAsync(true)
      await other.context.close()
      await context.close()
    }
  }, 60_000)

  it('invites a person and gives a one-time link that opens the set-up page', async () => {
    const { context, page, problems } = await openPage(browser, DESKTOP)
    try {
      await signInAs(page, admin, '#admin/people')
      await heading(page, 'People').waitFor()
      const view = page.locator('#view-admin')
      await view.getByText('Invite a person', { exact: true }).click()
      await view.getByLabel('Email', { exact: true }).fill('morgan.new@council.example')
      await view.getByLabel('Name', { exact: true }).fill('Morgan New')
      await view.getByLabel('Role', { exact: true }).selectOption('crew')
      await view.getByLabel('Riverside round (round)').check()
      await view.getByRole('button', { name: 'Create the invitation link' }).click()
      const link = await page.getByLabel('Invitation link for morgan.new@council.example').inputValue()
      expect(link).toMatch(/\/\?invitation=[A-Za-z0-9_-]{20,}$/)
      expect(await axeViolations(page), 'invitation link shown').toEqual([])
      await screenshot(page, 'admin-people-link-desktop')
      await page.getByRole('listitem').filter({ hasText: 'Morgan New' }).getByText('Roles: crew in riverside').waitFor()
      await page
        .getByRole('listitem')
        .filter({ hasText: 'Morgan New' })
        .getByText(/^Invited/)
        .waitFor()

      const fresh = await openPage(browser, PHONE)
      await fresh.page.goto(link.replace(/^https?:\/\/[^/]+/, url))
      await heading(fresh.page, 'Set up your account').waitFor()
      await expect(fresh.page.getByText('Welcome, Morgan New.').count()).resolves.toBe(1)
      await fresh.context.close()

      // The server's own words when it refuses: the address is taken.
      await view.getByText('Invite a person', { exact: true }).click()
      await view.getByLabel('Email', { exact: true }).fill('morgan.new@council.example')
      await view.getByLabel('Name', { exact: true }).fill('Morgan Again')
      await view.getByRole('button', { name: 'Create the invitation link' }).click()
      await page.getByText('a person with this email already exists').waitFor()
      // The refusal itself is the only failed call.
      expect(await problems()).toEqual([
        '409 /api/people',
        'console: Failed to load resource: the server responded with a status of 409 (Conflict)',
      ])
      // Signing out leaves no link (a credential) behind in the page for the next person at this computer.
      await page.getByRole('button', { name: 'Sign out' }).click()
      await page.getByRole('heading', { name: 'Sign in' }).waitFor()
      expect(await page.content()).not.toContain(link.split('invitation=')[1]!)
    } finally {
      await context.close()
    }
  }, 30_000)

  it('lists a quarantined reading with its reason and replays it; the health page says InfluxDB is ok', async () => {
    const { context, page, problems } = await openPage(browser, DESKTOP)
    try {
      await signInAs(page, admin, '#admin/quarantine')
      await heading(page, 'Quarantine').waitFor()
      const entry = page.getByRole('listitem').filter({ hasText: `From ${noisy.id} (bin)` })
      await entry.getByText('very full').waitFor()
      await expect(entry.getByText(/fillingLevel/).count()).resolves.toBeGreaterThan(0)
      // Replayed by keyboard alone.
      expect(await tabTo(page, new RegExp(`^Replay: message from ${noisy.id} at `))).toBe(true)
      await page.keyboard.press('Enter')
      await page.getByText(/Replay of the message from bin-noisy: Replayed 1: 0 accepted and ingested, 1 refused again/).waitFor()
      // The replayed message's button went with the reload: focus is on the list's heading, not lost.
      await expect.poll(() => page.evaluate('document.activeElement?.textContent')).toBe('Newest messages')

      await page.locator('.admin-pages').getByRole('link', { name: 'Service health' }).click()
      await heading(page, 'Service health').waitFor()
      await page.getByText('✓ InfluxDB (reading history): ok').waitFor()
      await page.getByText(/^✓ Log reader “influxdb”: keeping up$/).waitFor()
      expect(await problems()).toEqual([])
    } finally {
      await context.close()
    }
  }, 30_000)

  it('creates a round and edits its schedule in words; sets and removes a rule override, showing the server refusal', async () => {
    const { context, page, problems } = await openPage(browser, DESKTOP)
    const view = page.locator('#view-admin')
    try {
      await signInAs(page, admin, '#admin/rounds')
      await heading(page, 'Rounds').waitFor()
      await view.getByText('Create a round', { exact: true }).click()
      await view.getByLabel('Round name', { exact: true }).fill('Hillside')
      await view.getByLabel('Site (optional)', { exact: true }).fill('hillside')
      await view.getByLabel('Tuesday', { exact: true }).check()
      await view.getByLabel('Friday', { exact: true }).check()
      await view.getByLabel('Time the crew passes (London time)').fill('08:15')
      await view.getByRole('button', { name: 'Create the round' }).click()
      await page.getByText('Round Hillside is created: Tuesdays and Fridays at 08:15 (London time).').waitFor()
      const riverside = view.getByRole('listitem').filter({ hasText: 'riverside-round' })
      await riverside.getByText('Mondays and Thursdays at 06:30 (London time)').waitFor()
      await riverside.getByRole('button', { name: 'Edit schedule: Riverside' }).click()
      await riverside.getByLabel('Thursday', { exact: true }).uncheck()
      await riverside.getByRole('button', { name: 'Save schedule: Riverside' }).click()
      await view.getByRole('listitem').filter({ hasText: 'riverside-round' }).getByText('Mondays at 06:30 (London time)').waitFor()
      await expect.poll(() => page.evaluate('document.activeElement?.textContent')).toBe('Rounds')
      const saved = (await (await svc.api('/api/rounds/riverside-round')).json()) as { schedule: { weekdays: number[] } }
      expect(saved.schedule.weekdays).toEqual([1])

      await page.locator('.admin-pages').getByRole('link', { name: 'Rule overrides' }).click()
      await heading(page, 'Rule overrides').waitFor()
      await view.getByText('Set an override', { exact: true }).click()
      await view.getByLabel('Site or device id').fill('hillside')
      await view.getByLabel('Rule', { exact: true }).selectOption('bin-full')
      await view.getByLabel('Changed fields (JSON, optional)').fill('{"raiseAt": 0.5, "clearAt": 0.9}')
      await view.getByRole('button', { name: 'Set the override' }).click()
      await view.getByText(/the override does not fit rule bin-full/).waitFor()
      await view.getByLabel('Changed fields (JSON, optional)').fill('{"raiseAt": 0.9, "clearAt": 0.6}')
      await view.getByRole('button', { name: 'Set the override' }).click()
      await page.getByText('The override of Bin full for hillside is set.').waitFor()
      const card = view.getByRole('listitem').filter({ hasText: 'Bin full for site hillside' }).first()
      await card.getByText('Change: {"raiseAt":0.9,"clearAt":0.6}').waitFor()
      await card.getByRole('button', { name: 'Remove override: Bin full for site hillside' }).click()
      await card.getByRole('button', { name: 'Yes, remove: Bin full for site hillside' }).click()
      await page.getByText('The override of Bin full for site hillside is removed.').waitFor()
      await view.getByText('Removed: Bin full for site hillside').waitFor()
      expect(await problems()).toEqual([
        '400 /api/rules/overrides/site/hillside/bin-full',
        'console: Failed to load resource: the server responded with a status of 400 (Bad Request)',
      ])
    } finally {
      await context.close()
    }
  }, 30_000)

  it('opens the view tapped in the menu even before the first view has loaded', async () => {
    const { context, page, problems } = await openPage(browser, DESKTOP)
    try {
      // The alerts (where an admin lands) are slow to come; the menu is already there.
      let release: () => void = () => {}
      const held = new Promise<void>((r) => {
        release = r
      })
      await page.route(/\/api\/alerts\?/, async (route) => {
        await held
        await route.continue()
      })
      await signInAs(page, admin)
      await page.locator('#nav-list').getByRole('link', { name: 'Admin', exact: true }).click()
      await heading(page, 'Admin').waitFor()
      release()
      // The slow view, when it does load, does not take the page back.
      await page.waitForTimeout(500)
      expect(await heading(page, 'Admin').isVisible()).toBe(true)
      expect(await page.locator('#view-alerts').isHidden()).toBe(true)
      expect(await problems()).toEqual([])
    } finally {
      await context.close()
    }
  })

  it('keeps a crew member out: no Admin in their menu, and #admin opens their own round', async () => {
    const { context, page, problems } = await openPage(browser, PHONE)
    try {
      await signInAs(page, crew, '#admin')
      await heading(page, "Today's round").waitFor()
      expect(await page.locator('#nav-list').getByRole('link', { name: 'Admin' }).count()).toBe(0)
      expect(await page.locator('#view-admin').isHidden()).toBe(true)
      expect(await page.locator('#view-admin').textContent()).toBe('')
      expect(await problems()).toEqual([])
    } finally {
      await context.close()
    }
  }, 30_000)

  it('has no axe-core WCAG 2.2 A/AA violations and no sideways scrolling on any admin page, on a phone and a desktop', async () => {
    for (const size of [PHONE, DESKTOP]) {
      const { context, page, problems } = await openPage(browser, size)
      const label = size === PHONE ? 'phone' : 'desktop'
      try {
        await signInAs(page, admin, '#admin')
        await heading(page, 'Admin').waitFor()
        expect(await axeViolations(page), `index ${label}`).toEqual([])
        await screenshot(page, `admin-index-${label}`)
        if (size === PHONE) {
          await page.setViewportSize({ width: 320, height: 640 })
          expect(await scrollsSideways(page), 'index at 320 px').toBe(false)
          await page.setViewportSize(PHONE)
        } else {
          const audit = await keyboardAudit(page)
          expect(audit.problems, 'index by keyboard').toEqual([])
          expect(audit.reached).toEqual(expect.arrayContaining(PAGES.map((n) => `a "${TITLES[n]}"`)))
        }
        for (const name of PAGES) {
          await page.goto(`${url}/#admin/${name}`)
          await heading(page, TITLES[name]).waitFor()
          // Each page is busy until its data is in.
          await page.locator('#view-admin[aria-busy]').waitFor({ state: 'detached' })
          // Forms open too, so they are checked as well.
          await page.evaluate("for (const d of document.querySelectorAll('#view-admin details')) d.open = true")
          if (name === 'rounds') await page.getByRole('button', { name: 'Edit bins: Riverside' }).click()
          if (name === 'people') await page.getByRole('button', { name: 'Change roles: Rowan Reed' }).click()
          if (name === 'devices') await page.getByRole('button', { name: 'Revoke: Quay Steps' }).click()
          expect(await axeViolations(page), `${name} ${label}`).toEqual([])
          await screenshot(page, `admin-${name}-${label}`)
          // Every control, forms open, reached by Tab with its focus shown.
          if (size === DESKTOP) expect((await keyboardAudit(page)).problems, `${name} by keyboard`).toEqual([])
          if (size === PHONE) {
            await page.setViewportSize({ width: 320, height: 640 })
            expect(await scrollsSideways(page), `${name} at 320 px`).toBe(false)
            await page.setViewportSize(PHONE)
          }
        }
        expect((await problems()).filter((p) => p !== '503 /ready')).toEqual([])
      } finally {
        await context.close()
      }
    }
  }, 120_000)
})
