import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ChildService } from '../helpers/child-service.ts'
import { provisionBins, steadyLoad } from '../helpers/load.ts'
import { type PrivateStack, startPrivateStack } from '../helpers/private-stack.ts'
import { countPoints, waitFor } from '../helpers/service.ts'

const OUTAGE_S = Number(process.env.OUTAGE_S ?? 60)

describe('an InfluxDB outage loses nothing (issue 3, acceptance 2)', () => {
  let stack: PrivateStack
  let svc: ChildService

  beforeAll(async () => {
    stack = await startPrivateStack('outage')
    svc = await stack.spawn('outage')
  })
  afterAll(() => stack?.close())

  const ready = async () => {
    const res = await fetch(`${svc.url}/ready`)
    return { status: res.status, body: (await res.json()) as { status: string; checks: Record<string, { ok: boolean; detail?: string }> } }
  }

  it(`under 500 readings/s, a ${OUTAGE_S} s outage is reported and every acknowledged reading lands`, {
    timeout: (OUTAGE_S + 90) * 1000,
  }, async () => {
    const devices = await provisionBins(svc.url, stack.token, 50, 'outage')
    const load = await steadyLoad(svc.mqttUrl, devices, 500)
    await new Promise((r) => setTimeout(r, 5_000))
    expect((await ready()).status).toBe(200)

    await stack.influxd.kill()
    const sentBefore = load.stats.sent
    const ackedBefore = load.stats.acked
    const during: { status: number; detail: string | undefined }[] = []
    const end = Date.now() + OUTAGE_S * 1000
    while (Date.now() < end) {
      const r = await ready()
      during.push({ status: r.status, detail: r.body.checks.influxdb?.detail })
      await new Promise((res) => setTimeout(res, 2_000))
    }
    const sentDuringOutage = load.stats.sent - sentBefore
    const ackedDuringOutage = load.stats.acked - ackedBefore
    await stack.influxd.start()
    await new Promise((r) => setTimeout(r, 5_000))
    await load.stop()

    // Readiness was degraded for the whole outage (after the first failed write was seen).
    expect(during.slice(2).every((d) => d.status === 503)).toBe(true)
    expect(during.at(-1)!.detail).toMatch(/unreachable|failing/)
    // Devices were never refused because of the outage.
    expect(load.stats.errors).toBe(0)
    expect(load.stats.disconnects).toBe(0)
    expect(load.stats.acked).toBe(load.stats.sent)
    // The full load was offered through the outage, and acknowledged as it came (at most 2 s behind).
    expect(sentDuringOutage).toBeGreaterThan(500 * (OUTAGE_S - 5))
    expect(ackedDuringOutage).toBeGreaterThan(sentDuringOutage - 500 * 2)

    const stored = await waitFor(async () => {
      const n = await countPoints(stack.influxd.url, 'outage', 'bin')
      return n >= load.stats.acked ? n : null
    }, 60_000)
    expect(stored).toBe(load.stats.acked)
    await waitFor(async () => (await ready()).status === 200, 10_000)
    await load.close()
  })
})
