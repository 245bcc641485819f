import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ChildService } from '../helpers/child-service.ts'
import { provisionBins, steadyLoad } from '../helpers/load.ts'
import { type PrivateStack, startPrivateStack } from '../helpers/private-stack.ts'
import { countPoints, pointTimes, waitFor } from '../helpers/service.ts'

const TIMEOUT_MS = 3_000

describe('graceful shutdown under load (issue 3, acceptance 7)', () => {
  let stack: PrivateStack
  let svc: ChildService

  beforeAll(async () => {
    stack = await startPrivateStack('shutdown')
  })
  afterAll(() => stack?.close())

  it('SIGTERM ends within the timeout with every acknowledged reading in InfluxDB or the spool; the next start drains it', {
    timeout: 90_000,
  }, async () => {
    const env = { SHUTDOWN_TIMEOUT_MS: String(TIMEOUT_MS) }
    svc = await stack.spawn('shutdown', env)
    const devices = await provisionBins(svc.url, stack.token, 20, 'shut')
    const load = await steadyLoad(svc.mqttUrl, devices, 300)
    await new Promise((r) => setTimeout(r, 2_000))
    // InfluxDB goes away, so the spool holds readings that cannot drain before the deadline.
    await stack.influxd.kill()
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

    await stack.influxd.start()
    expect(await countPoints(stack.influxd.url, 'shutdown', 'bin')).toBeLessThan(acked)
    svc = await stack.spawn('shutdown', env)
    const n = await waitFor(async () => {
      const c = await countPoints(stack.influxd.url, 'shutdown', 'bin')
      return c >= acked ? c : null
    }, 30_000)
    // Every acknowledged reading landed. A reading appended while the shutdown cut its connection is
    // stored without its PUBACK (at least once): so more points than PUBACKs is right, more than were sent is not.
    const stored = new Set(await pointTimes(stack.influxd.url, 'shutdown', 'bin'))
    expect(stored.size).toBe(n)
    expect(load.stats.ackedTs.filter((t) => !stored.has(t))).toEqual([])
    expect(n).toBeLessThanOrEqual(load.stats.sent)
    svc.child.kill('SIGTERM')
    expect(await svc.exited).toBe(0)
  })

  it('a second signal exits at once', { timeout: 60_000 }, async () => {
    await stack.influxd.kill() // nothing can drain, so the first signal would wait for its deadline
    svc = await stack.spawn('shutdown', { SHUTDOWN_TIMEOUT_MS: '20000' })
    const devices = await provisionBins(svc.url, stack.token, 2, 'again')
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
    await stack.influxd.start()
  })
})
