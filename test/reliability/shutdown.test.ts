import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, type PrivateInfluxd, startInfluxd } from '../../scripts/influxd.ts'
import { type ChildService, spawnService } from '../helpers/child-service.ts'
import { provisionBins, steadyLoad } from '../helpers/load.ts'
import { countPoints, waitFor } from '../helpers/service.ts'

const TIMEOUT_MS = 3_000

describe('graceful shutdown under load (issue 3, acceptance 7)', () => {
  let influxd: PrivateInfluxd
  let svc: ChildService | null = null
  const dataDir = mkdtempSync(join(tmpdir(), 'sp-shutdown-'))
  const token = randomBytes(32).toString('base64url')

  beforeAll(async () => {
    influxd = await startInfluxd()
  })
  afterAll(async () => {
    if (svc && svc.child.exitCode === null) svc.child.kill('SIGKILL')
    await influxd?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('SIGTERM ends within the timeout with every acknowledged reading in InfluxDB or the spool; the next start drains it', {
    timeout: 90_000,
  }, async () => {
    const opts = {
      dataDir,
      influxUrl: influxd.url,
      db: 'shutdown',
      token,
      httpPort: await freePort(),
      mqttPort: await freePort(),
      env: { SHUTDOWN_TIMEOUT_MS: String(TIMEOUT_MS) },
    }
    svc = await spawnService(opts)
    const devices = await provisionBins(svc.url, token, 20, 'shut')
    const load = await steadyLoad(svc.mqttUrl, devices, 300)
    await new Promise((r) => setTimeout(r, 2_000))
    // InfluxDB goes away, so the spool holds readings that cannot drain before the deadline.
    await influxd.kill()
    await new Promise((r) => setTimeout(r, 2_000))

    const t = Date.now()
    svc.child.kill('SIGTERM')
    const code = await svc.exited
    const took = Date.now() - t
    await load.stop(2_000)
    expect(code).toBe(0)
    expect(took).toBeLessThan(TIMEOUT_MS + 500)
    const acked = load.stats.acked
    expect(acked).toBeGreaterThan(500)
    await load.close()

    await influxd.start()
    expect(await countPoints(influxd.url, 'shutdown', 'bin')).toBeLessThan(acked)
    svc = await spawnService(opts)
    const n = await waitFor(async () => {
      const c = await countPoints(influxd.url, 'shutdown', 'bin')
      return c >= acked ? c : null
    }, 30_000)
    expect(n).toBe(acked)
    svc.child.kill('SIGTERM')
    expect(await svc.exited).toBe(0)
  })

  it('a second signal exits at once', { timeout: 60_000 }, async () => {
    await influxd.kill() // nothing can drain, so the first signal would wait for its deadline
    svc = await spawnService({
      dataDir,
      influxUrl: influxd.url,
      db: 'shutdown',
      token,
      httpPort: await freePort(),
      mqttPort: await freePort(),
      env: { SHUTDOWN_TIMEOUT_MS: '20000' },
    })
    const devices = await provisionBins(svc.url, token, 2, 'again')
    const load = await steadyLoad(svc.mqttUrl, devices, 20)
    await new Promise((r) => setTimeout(r, 1_000))
    await load.stop()
    await load.close()
    const t = Date.now()
    svc.child.kill('SIGTERM')
    await new Promise((r) => setTimeout(r, 300))
    svc.child.kill('SIGTERM')
    await svc.exited
    expect(Date.now() - t).toBeLessThan(3_000)
    await influxd.start()
  })
})
