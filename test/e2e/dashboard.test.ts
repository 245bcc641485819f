import { randomBytes } from 'node:crypto'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Service } from '../../service/service.ts'
import { keyboardAudit, launchChromium } from '../helpers/browser.ts'
import { putArea } from '../helpers/people.ts'
import { connectDevice, startService, type TestService, telemetryTopic } from '../helpers/service.ts'
import { axeViolations, createPerson, DESKTOP, PHONE, requireBuiltWebApp, screenshot, scrollsSideways, WEB_ROOT } from '../helpers/web.ts'

describe('the dashboard in a real browser (acceptance 7)', () => {
  let svc: TestService
  let service: Service
  let browser: Browser
  let url = ''
  let mqttUrl = ''
  const token = randomBytes(32).toString('base64url')
  const crew = { email: 'sam.crew@council.example', password: 'bin lorry route sunrise' }

  beforeAll(async () => {
    // The whole service in this process, serving the web app as built by `npm run build:web` (scripts/test.sh does it).
    requireBuiltWebApp()
    svc = await startService({}, { webRoot: WEB_ROOT, token })
    service = svc.service
    url = service.httpUrl
    mqttUrl = `mqtt://127.0.0.1:${service.broker.port}`
    // A waste crew member whose round covers the high street: they see its bins, live.
    await putArea(service.registry, { id: 'high-street-round', name: 'High Street round', kind: 'round', sites: ['high-street'] })
    await createPerson(service.registry, { ...crew, name: 'Sam Crew', grants: [{ role: 'crew', areas: ['high-street-round'] }] })
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close()
    await svc?.close()
  })

  it('signs in with email and password, lists a device and shows a live alert that can be acknowledged', async () => {
    const page = await browser.newPage()
    await page.goto(`${url}/#all`)
    await page.getByLabel('Email', { exact: true }).fill(crew.email)
    await page.getByLabel('Password', { exact: true }).fill('not the password')
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await expect.poll(() => page.locator('#sign-in-message').textContent()).toMatch(/email or password/i)

    // Provisioning is an admin's job, done here by automation with the admin token.
    const res = await fetch(`${url}/api/devices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'bin-browser', type: 'bin', name: 'Browser bin', site: 'high-street' }),
    })
    expect(res.status).toBe(201)
    const bin = (await res.json()) as { id: string; secret: string; site: string; type: string }

    await page.getByLabel('Password', { exact: true }).fill(crew.password)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.locator('tr[data-device-id="bin-browser"]').waitFor({ timeout: 5_000 })
    expect(await page.locator('#me-name').textContent()).toBe('Sam Crew')
    await expect.poll(() => page.locator('#conn').textContent()).toBe('live')
    await expect.poll(() => page.locator('#health').textContent()).toMatch(/^InfluxDB ok · 0 records \(0 bytes\) waiting/)

    const device = await connectDevice(mqttUrl, bin.id, bin.secret)
    for (const fill of [0.97, 0.98]) {
      await device.publishAsync(
        telemetryTopic(bin),
        JSON.stringify({ readings: { fillingLevel: fill, temperature: 9, batteryPct: 88, tilted: false } }),
        { qos: 1 },
      )
    }
    const alert = page.locator('#alerts li', { hasText: 'Bin full' })
    await alert.waitFor({ timeout: 5_000 })
    expect(await alert.textContent()).toContain('bin-browser')
    await expect.poll(() => page.locator('tr[data-device-id="bin-browser"]').textContent()).toContain('fillingLevel 0.98')

    // On a phone: no sideways scroll, and the row still says what each value is.
    await page.setViewportSize({ width: 360, height: 740 })
    expect(await scrollsSideways(page)).toBe(false)
    expect(await page.locator('tr[data-device-id="bin-browser"] td').first().getAttribute('data-label')).toBe('Device')

    // The button says which alert it acknowledges; the cookie session sends its CSRF token with the POST.
    await alert.getByRole('button', { name: 'Acknowledge Bin full on bin-browser' }).click()
    await expect.poll(() => alert.getAttribute('data-status')).toBe('acknowledged')

    // Like every other view (issue 11, acceptance 2): no axe-core WCAG 2.2 A/AA violation on a phone or a desktop, nothing sideways at 320 px.
    for (const size of [PHONE, DESKTOP]) {
      await page.setViewportSize(size)
      expect(await axeViolations(page), `${size.width}×${size.height}`).toEqual([])
      await screenshot(page, `all-devices-${size.width}x${size.height}`)
    }
    await page.setViewportSize({ width: 320, height: 640 })
    expect(await scrollsSideways(page)).toBe(false)
    // Every control on the view is reached by Tab and shows where the focus is.
    await page.setViewportSize(DESKTOP)
    const audit = await keyboardAudit(page)
    expect(audit.problems).toEqual([])
    expect(audit.reached).toEqual(expect.arrayContaining(['button "Sign out"', 'a "All devices"']))
    await device.endAsync()
  })

  it('has no axe-core violations on the sign-in page, on a phone and a desktop, and fits 320 px', async () => {
    const page = await browser.newPage()
    await page.goto(`${url}/`)
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    for (const size of [PHONE, DESKTOP]) {
      await page.setViewportSize(size)
      expect(await axeViolations(page), `${size.width}×${size.height}`).toEqual([])
      await screenshot(page, `sign-in-${size.width}x${size.height}`)
    }
    await page.setViewportSize({ width: 320, height: 640 })
    expect(await scrollsSideways(page)).toBe(false)
    await page.close()
  })
})
