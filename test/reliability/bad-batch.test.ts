import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type PrivateInfluxd, startInfluxd } from '../../scripts/influxd.ts'
import { binReading } from '../helpers/load.ts'
import { connectDevice, countPoints, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'

describe('a line InfluxDB refuses goes to quarantine and the rest of its batch lands (issue 3, acceptance 4)', () => {
  let influxd: PrivateInfluxd
  let svc: TestService

  beforeAll(async () => {
    influxd = await startInfluxd()
    svc = await startService({}, { influxUrl: influxd.url, db: 'badbatch' })
  })
  afterAll(async () => {
    await svc?.close()
    await influxd?.stop()
  })

  it('isolates a field type conflict', async () => {
    const boiler = await svc.provision({ id: 'boiler-conflict', type: 'boiler', site: 'estate' })
    const bins = await Promise.all([1, 2, 3].map((i) => svc.provision({ id: `bin-ok-${i}`, type: 'bin', site: 'estate' })))
    const t0 = Date.now() - 60_000
    // Someone wrote faultCode as a number into this database before: a string now conflicts.
    const pre = await fetch(`${influxd.url}/write?db=badbatch&precision=ms`, {
      method: 'POST',
      body: `boiler,device_id=legacy,site=estate faultCode=1.0 ${t0}`,
    })
    expect(pre.status).toBe(204)

    // InfluxDB down while publishing, so everything drains as one batch when it returns.
    await influxd.kill()
    for (const [i, b] of bins.entries()) {
      const c = await connectDevice(svc.mqttUrl, b.id, b.secret)
      for (let k = 0; k < 10; k++) await c.publishAsync(telemetryTopic(b), binReading(t0 + k * 1000 + i), { qos: 1 })
      await c.endAsync()
    }
    const c = await connectDevice(svc.mqttUrl, boiler.id, boiler.secret)
    const reading = { flowTemp: 60, returnTemp: 45, pressureBar: 1.5, burnerOn: true, lockout: true, faultCode: 'EA227' }
    await c.publishAsync(telemetryTopic(boiler), JSON.stringify({ ts: t0 + 500, readings: reading }), { qos: 1 })
    await c.endAsync()
    await influxd.start()

    await waitFor(async () => (await countPoints(influxd.url, 'badbatch', 'bin')) === 30, 15_000)
    const q = await waitFor(async () => {
      const list = (await (await svc.api(`/api/quarantine?deviceId=${boiler.id}`)).json()) as {
        code: string
        reason: string
        payload: string
      }[]
      return list.length ? list : null
    }, 5_000)
    expect(q).toHaveLength(1)
    expect(q[0]!.code).toBe('INFLUX_REJECTED')
    expect(q[0]!.reason).toMatch(/field type conflict/)
    expect(Buffer.from(q[0]!.payload, 'base64').toString()).toContain('"faultCode":"EA227"')
    expect(await countPoints(influxd.url, 'badbatch', 'boiler', `"device_id" = '${boiler.id}'`)).toBe(0)
    // The writer moved on: nothing waits in the log and InfluxDB counts as healthy.
    await waitFor(async () => (await fetch(`${svc.url}/ready`)).status === 200, 5_000)
  })
})
