import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { binReading } from '../helpers/load.ts'
import { connectPacket, publishPacket, rawClient } from '../helpers/raw-mqtt.ts'
import { connectDevice, countPoints, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'

describe('a flood from one device costs only that device (issue 3, acceptance 6)', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startService({ MQTT_DEVICE_RATE: '20', MQTT_DEVICE_BURST: '100' })
  })
  afterAll(() => svc?.close())

  it('keeps another device at ≥ 95 % of its sent rate while one device publishes as fast as it can', { timeout: 60_000 }, async () => {
    const flooder = await svc.provision({ id: 'bin-flood', type: 'bin', site: 'flood' })
    const victim = await svc.provision({ id: 'bin-victim', type: 'bin', site: 'flood' })
    const raw = await rawClient(svc.service.broker.port)
    raw.send(connectPacket({ clientId: flooder.id, username: flooder.id, password: flooder.secret }))
    expect(await raw.connack()).toBe(0)

    const SECONDS = 10
    const end = Date.now() + SECONDS * 1000
    let floodSent = 0
    const flood = (async () => {
      let ts = Date.now() - 3_600_000
      while (Date.now() < end) {
        const ok = raw.socket.write(publishPacket({ topic: telemetryTopic(flooder), payload: binReading(ts++), qos: 0 }))
        floodSent++
        if (!ok) {
          await new Promise<void>((resolve) => {
            const done = () => {
              clearTimeout(timer)
              raw.socket.off('drain', done)
              resolve()
            }
            const timer = setTimeout(done, 100)
            raw.socket.once('drain', done)
          })
        }
      }
    })()

    const client = await connectDevice(svc.mqttUrl, victim.id, victim.secret)
    let sent = 0
    let acked = 0
    let ts = Date.now() - 60_000
    while (Date.now() < end) {
      sent++
      client.publish(telemetryTopic(victim), binReading(ts++), { qos: 1 }, (err) => {
        if (!err) acked++
      })
      await new Promise((r) => setTimeout(r, 100))
    }
    await flood
    await new Promise((r) => setTimeout(r, 500))
    expect(acked / sent).toBeGreaterThanOrEqual(0.95)
    await waitFor(async () => (await countPoints(svc.influxUrl, svc.db, 'bin', `"device_id" = '${victim.id}'`)) === acked, 5_000)

    // The flooder got its burst plus its sustained rate, not what it offered.
    const flooded = await countPoints(svc.influxUrl, svc.db, 'bin', `"device_id" = '${flooder.id}'`)
    expect(floodSent).toBeGreaterThan(2_000)
    expect(flooded).toBeLessThanOrEqual(100 + 20 * (SECONDS + 2))
    expect(await (await svc.api('/metrics')).text()).toMatch(/sp_mqtt_throttled_total [1-9]/)
    raw.end()
    await client.endAsync()
  })
})
