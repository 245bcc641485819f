import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Response, WebSocket } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { freePort } from '../../scripts/free-port.ts'
import { launchChromium } from '../helpers/browser.ts'
import { type ChildService, spawnService } from '../helpers/child-service.ts'

const TILE = 'https://{s}.tile.example.org/{z}/{x}/{y}.png'

// Recorded in the page before any of its own scripts run, from the browser's own event.
const RECORD_VIOLATIONS = `
  window.__csp = []
  document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI))
`

/** A page that records CSP violations both ways Chromium reports them: the DOM event and the console. */
async function watchedPage(browser: Browser) {
  const page = await browser.newPage()
  const console: string[] = []
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) console.push(m.text())
  })
  await page.addInitScript({ content: RECORD_VIOLATIONS })
  const violations = async () => [...((await page.evaluate('window.__csp')) as string[]), ...console]
  return { page, violations }
}

describe('the dashboard under its Content-Security-Policy in Chromium (issue 8, acceptance 5)', () => {
  let svc: ChildService
  let browser: Browser
  const token = randomBytes(32).toString('base64url')
  const dataDir = mkdtempSync(join(tmpdir(), 'sp-csp-'))

  beforeAll(async () => {
    // The real entry point serving the built web app, over plain http as on a council LAN.
    svc = await spawnService({
      dataDir,
      influxUrl: inject('influxUrl'),
      db: `csp_${randomBytes(4).toString('hex')}`,
      token,
      httpPort: await freePort(),
      mqttPort: await freePort(),
      env: { MAP_TILE_URL: TILE },
    })
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close()
    if (svc && svc.child.exitCode === null) {
      svc.child.kill('SIGTERM')
      await svc.exited
    }
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('loads, signs in and goes live over a Socket.IO WebSocket with no violation; every response carries the headers', async () => {
    const { page, violations } = await watchedPage(browser)
    const responses: Response[] = []
    const sockets: WebSocket[] = []
    page.on('response', (r) => responses.push(r))
    page.on('websocket', (ws) => sockets.push(ws))

    await page.goto(`${svc.url}/`)
    await page.getByText('Use an API token').click()
    await page.getByLabel('Access token').fill(token)
    await page.getByRole('button', { name: 'Sign in with the token' }).click()
    await expect.poll(() => page.locator('#conn').textContent()).toBe('live')
    await expect.poll(() => page.locator('#health').textContent()).toMatch(/^InfluxDB ok/)
    // Socket.IO starts on long-polling and upgrades: the upgrade is what connect-src 'self' has to allow.
    await expect.poll(() => sockets.some((ws) => ws.url().includes('/socket.io/') && !ws.isClosed())).toBe(true)
    expect(await violations()).toEqual([])

    const ours = responses.filter((r) => r.url().startsWith(svc.url))
    const paths = ours.map((r) => new URL(r.url()).pathname)
    expect(paths).toEqual(expect.arrayContaining(['/', '/api/devices', '/api/alerts', '/ready', '/socket.io/']))
    expect(paths.some((p) => p.endsWith('.js')) && paths.some((p) => p.endsWith('.css'))).toBe(true)
    for (const r of ours) {
      const h = await r.allHeaders()
      expect([r.url(), Boolean(h['content-security-policy']), h['x-content-type-options'], h['x-frame-options']]).toEqual([
        r.url(),
        true,
        'nosniff',
        'DENY',
      ])
      expect(h['content-security-policy']).not.toContain('upgrade-insecure-requests')
    }
    await page.close()
  })

  it('blocks an image from elsewhere but allows the configured tile host (so the watch above is not blind)', async () => {
    const { page, violations } = await watchedPage(browser)
    await page.goto(`${svc.url}/`)
    await page.evaluate(`(() => {
      for (const src of ['https://a.tile.example.org/1/0/0.png', 'https://elsewhere.example.com/x.png']) {
        const img = new Image()
        img.src = src
        document.body.append(img)
      }
    })()`)
    await expect.poll(async () => (await violations()).some((v) => v.includes('elsewhere.example.com'))).toBe(true)
    expect(await page.evaluate('window.__csp')).toEqual(['img-src https://elsewhere.example.com/x.png'])
    await page.close()
  })

  it('serves Swagger UI at /docs with no violation (inline style is allowed there, and only there)', async () => {
    const { page, violations } = await watchedPage(browser)
    await page.goto(`${svc.url}/docs`)
    await page.locator('.opblock').first().waitFor({ timeout: 10_000 })
    expect(await page.locator('.opblock').count()).toBeGreaterThan(5)
    expect(await violations()).toEqual([])
    await page.close()
  })

  it('after too many wrong tokens, sign-in says when to try again instead of blaming the token', async () => {
    const { page, violations } = await watchedPage(browser)
    await page.goto(`${svc.url}/`)
    await page.getByText('Use an API token').click()
    await page.getByLabel('Access token').fill(token)
    // Last, as it blocks 127.0.0.1 (where the browser is too), and just before the click: the first block lasts 1 s.
    for (let i = 0; i < 21; i++) {
      const res = await fetch(`${svc.url}/api/devices`, { headers: { authorization: `Bearer wrong-${i}` } })
      expect(res.status).toBe(401)
    }
    await page.getByRole('button', { name: 'Sign in with the token' }).click()
    await expect
      .poll(() => page.locator('#sign-in-message').textContent())
      .toMatch(/^Too many failed sign-ins\. Try again in \d+ seconds?\.$/)
    expect(await violations()).toEqual([])
    await page.close()
  })
})
