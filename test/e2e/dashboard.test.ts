import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { launchChromium } from '../helpers/browser.ts'
import { connectDevice, telemetryTopic } from '../helpers/service.ts'

describe('the dashboard in a real browser (acceptance 7)', () => {
  let child: ChildProcess
  let browser: Browser
  let url = ''
  let mqttUrl = ''
  let token = ''
  const dataDir = mkdtempSync(join(tmpdir(), 'sp-e2e-'))

  beforeAll(async () => {
    // The real entry point, as `npm start` runs it, with the web app built by scripts/test.sh.
    child = spawn(process.execPath, ['--import', 'tsx', 'service/main.ts'], {
      env: {
        ...process.env,
        DATA_DIR: dataDir,
        HTTP_PORT: '0',
        MQTT_PORT: '0',
        MQTT_WS_PORT: 'off',
        INFLUX_URL: inject('influxUrl'),
        INFLUX_DB: `e2e_${randomBytes(4).toString('hex')}`,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`service did not start:\n${out}`)), 30_000)
      child.stdout!.on('data', (b: Buffer) => {
        out += b.toString()
        const dash = /dashboard: (\S+)\//.exec(out)
        const tok = /admin token \(shown once, keep it safe\): (\S+)/.exec(out)
        const mqtt = /MQTT:\s+(\S+)/.exec(out)
        if (dash && tok && mqtt) {
          clearTimeout(timer)
          ;[url, token, mqttUrl] = [dash[1]!, tok[1]!, mqtt[1]!]
          resolve()
        }
      })
      child.stderr!.on('data', (b: Buffer) => {
        out += b.toString()
      })
      child.once('exit', (code) => reject(new Error(`service exited with ${code}:\n${out}`)))
    })
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close()
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await exited
    }
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('signs in with the token, lists a device and shows a live alert that can be acknowledged', async () => {
    const page = await browser.newPage()
    await page.goto(`${url}/`)
    await page.getByLabel('Access token').fill('wrong-token')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await expect.poll(() => page.locator('#login-error').textContent()).toContain('not accepted')

    const res = await fetch(`${url}/api/devices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'bin-browser', type: 'bin', name: 'Browser bin', site: 'high-street' }),
    })
    const bin = (await res.json()) as { id: string; secret: string; site: string; type: string }

    await page.getByLabel('Access token').fill(token)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.locator('tr[data-device-id="bin-browser"]').waitFor({ timeout: 5_000 })
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

    await alert.getByRole('button', { name: 'Acknowledge' }).click()
    await expect.poll(() => alert.getAttribute('data-status')).toBe('acknowledged')
    await device.endAsync()
  })
})
