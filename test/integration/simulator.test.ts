import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFleet } from '../../simulators/fleet.ts'
import { apiProvisioner, fleetSpecs, provisionFleet } from '../../simulators/provision.ts'
import { noteSecret } from '../helpers/log-capture.ts'
import { countPoints, startService, type TestService } from '../helpers/service.ts'

describe('simulated fleet (acceptance 6)', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startService()
  })
  afterAll(() => svc?.close())

  it('20 devices of each type for 30 s land readings of every type and nothing in quarantine', { timeout: 90_000 }, async () => {
    const specs = fleetSpecs({ bin: 20, boiler: 20, meter: 20 }, 7)
    const devices = await provisionFleet(specs, apiProvisioner(svc.url, svc.token), null)
    // 600x: bins report every 2 s, boilers every 0.5 s, meters every 3 s; a simulated week passes in ~17 minutes of real time.
    const fleet = createFleet({ url: svc.mqttUrl, devices, speed: 600, seed: 7 })
    await fleet.start()
    expect(fleet.stats.connected).toBe(60)
    await new Promise((r) => setTimeout(r, 30_000))
    await fleet.close()
    expect(fleet.stats.errors).toBe(0)
    expect(fleet.stats.acked).toBe(fleet.stats.sent)

    await new Promise((r) => setTimeout(r, 500)) // one writer flush
    const counts = {
      bin: await countPoints(svc.influxUrl, svc.db, 'bin'),
      boiler: await countPoints(svc.influxUrl, svc.db, 'boiler'),
      meter: await countPoints(svc.influxUrl, svc.db, 'meter'),
    }
    expect(counts.bin).toBeGreaterThanOrEqual(20 * 10)
    expect(counts.boiler).toBeGreaterThanOrEqual(20 * 40)
    expect(counts.meter).toBeGreaterThanOrEqual(20 * 8)
    expect(counts.bin + counts.boiler + counts.meter).toBe(fleet.stats.acked)
    expect(await svc.service.registry.quarantine.count()).toBe(0)
  })

  it('sends SenML when asked, and it lands like native JSON; provisions with a named automation token', { timeout: 30_000 }, async () => {
    const created = await svc.api('/api/tokens', {
      method: 'POST',
      body: JSON.stringify({ name: 'simulator', grant: { role: 'admin', areas: null }, expiresInDays: 1 }),
    })
    const { token, apiToken } = (await created.json()) as { token: string; apiToken: { id: string } }
    noteSecret(token)
    const devices = await provisionFleet(fleetSpecs({ bin: 3, boiler: 3, meter: 3 }, 3, 'senml'), apiProvisioner(svc.url, token), null)
    const audit = await svc.service.registry.audit.list({ action: 'device-provisioned' })
    expect(audit.filter((e) => e.actor === `token:${apiToken.id}`)).toHaveLength(9)
    const fleet = createFleet({ url: svc.mqttUrl, devices, speed: 3600, seed: 3, format: 'senml' })
    await fleet.start()
    await new Promise((r) => setTimeout(r, 3_000))
    await fleet.close()
    expect(fleet.stats.acked).toBeGreaterThan(30)
    await new Promise((r) => setTimeout(r, 500))
    const where = `"device_id" =~ /^senml-/`
    const total =
      (await countPoints(svc.influxUrl, svc.db, 'bin', where)) +
      (await countPoints(svc.influxUrl, svc.db, 'boiler', where)) +
      (await countPoints(svc.influxUrl, svc.db, 'meter', where))
    expect(total).toBe(fleet.stats.acked)
    expect(await svc.service.registry.quarantine.count()).toBe(0)
  })
})
