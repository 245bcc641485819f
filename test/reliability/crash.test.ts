import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ChildService } from '../helpers/child-service.ts'
import { binReading, provisionBins } from '../helpers/load.ts'
import { type PrivateStack, startPrivateStack } from '../helpers/private-stack.ts'
import { connectDevice, countPoints, telemetryTopic, waitFor } from '../helpers/service.ts'

describe('a PUBACK survives kill -9 (issue 3, acceptance 1)', () => {
  let stack: PrivateStack
  let svc: ChildService

  beforeAll(async () => {
    stack = await startPrivateStack('crash')
  })
  afterAll(() => stack?.close())

  it('5,000 QoS 1 readings from 50 devices are all in InfluxDB exactly once after a crash and restart', { timeout: 120_000 }, async () => {
    svc = await stack.spawn('crash')
    const devices = await provisionBins(svc.url, stack.token, 50, 'crash')
    const clients = await Promise.all(devices.map((d) => connectDevice(svc.mqttUrl, d.id, d.secret)))
    const t0 = Date.now() - 3_600_000

    // First half while InfluxDB is up, second half while it is down: at the crash some
    // readings are in InfluxDB and the rest only in the spool.
    const publish = (from: number, to: number) =>
      Promise.all(
        clients.map(async (c, k) => {
          for (let i = from; i < to; i++) await c.publishAsync(telemetryTopic(devices[k]!), binReading(t0 + i * 1000 + k), { qos: 1 })
        }),
      )
    await publish(0, 50)
    await stack.influxd.kill()
    await publish(50, 100)
    svc.child.kill('SIGKILL') // right after the last PUBACK
    await svc.exited
    for (const c of clients) c.end(true)

    await stack.influxd.start()
    expect(await countPoints(stack.influxd.url, 'crash', 'bin')).toBeLessThan(5000)
    svc = await stack.spawn('crash')
    const n = await waitFor(async () => {
      const c = await countPoints(stack.influxd.url, 'crash', 'bin')
      return c >= 5000 ? c : null
    }, 30_000)
    expect(n).toBe(5000)
    // Counted per series and time: every device has its 100 distinct times, none twice.
    for (const d of [devices[0]!, devices[49]!])
      expect(await countPoints(stack.influxd.url, 'crash', 'bin', `"device_id" = '${d.id}'`)).toBe(100)
    await waitFor(async () => {
      const r = (await (await fetch(`${svc.url}/ready`)).json()) as { checks: Record<string, { detail: string }> }
      return r.checks['reader:influxdb']!.detail.startsWith('0 records')
    }, 10_000)
    svc.child.kill('SIGTERM')
    expect(await svc.exited).toBe(0)
  })
})
