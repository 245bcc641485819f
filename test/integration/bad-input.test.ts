import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectDevice, countPoints, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'

interface Q {
  deviceId: string
  code: string
  reason: string
  issues: { path: string; message: string }[]
  payload: string
}

const good = (fill: number, ts: number) =>
  JSON.stringify({ ts, readings: { fillingLevel: fill, temperature: 11, batteryPct: 70, tilted: false } })

describe('bad input is quarantined and good input still lands (acceptance 3, 4)', () => {
  let svc: TestService
  let client: MqttClient
  let bin: { id: string; secret: string; site: string; type: string }

  beforeAll(async () => {
    svc = await startService()
    bin = await svc.provision({ id: 'bin-bad', type: 'bin', site: 'depot' })
    client = await connectDevice(svc.mqttUrl, bin.id, bin.secret)
  })
  afterAll(async () => {
    await client?.endAsync()
    await svc?.close()
  })

  const cases: { name: string; payload: string | Buffer; code: string; reason: RegExp; path?: string }[] = [
    { name: 'malformed JSON', payload: '{"readings": {', code: 'PAYLOAD_NOT_JSON', reason: /not JSON/ },
    { name: 'malformed UTF-8', payload: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), code: 'PAYLOAD_NOT_JSON', reason: /not JSON/ },
    {
      name: 'wrong type',
      payload: JSON.stringify({ readings: { fillingLevel: 'full', temperature: 11, batteryPct: 70, tilted: false } }),
      code: 'PAYLOAD_INVALID',
      reason: /bin schema/,
      path: 'readings.fillingLevel',
    },
    {
      name: 'out of range',
      payload: JSON.stringify({ readings: { fillingLevel: 1.7, temperature: 11, batteryPct: 70, tilted: false } }),
      code: 'PAYLOAD_INVALID',
      reason: /bin schema/,
      path: 'readings.fillingLevel',
    },
    {
      name: 'unknown field',
      payload: JSON.stringify({ readings: { fillingLevel: 0.5, temperature: 11, batteryPct: 70, tilted: false, colour: 'green' } }),
      code: 'PAYLOAD_INVALID',
      reason: /bin schema/,
      path: 'readings',
    },
    {
      name: 'timestamp in 1970',
      payload: JSON.stringify({ ts: 1000, readings: { fillingLevel: 0.5, temperature: 11, batteryPct: 70, tilted: false } }),
      code: 'TIMESTAMP_OUT_OF_WINDOW',
      reason: /outside the accepted window/,
      path: 'ts',
    },
    {
      name: 'telemetry over 16 KiB',
      payload: JSON.stringify({ readings: { pad: 'x'.repeat(20_000) } }),
      code: 'PAYLOAD_TOO_LARGE',
      reason: /limit/,
    },
  ]

  it('quarantines each bad message with a readable reason, keeps the device connected, and lands the valid reading sent right after', async () => {
    const t0 = Date.now() - 60_000
    for (const [i, c] of cases.entries()) {
      await client.publishAsync(telemetryTopic(bin), c.payload, { qos: 1 }) // still acknowledged
      await client.publishAsync(telemetryTopic(bin), good(0.1 + i / 100, t0 + i * 1000), { qos: 1 })
    }
    expect(client.connected).toBe(true)

    const res = await svc.api(`/api/quarantine?deviceId=${bin.id}`)
    const entries = ((await res.json()) as Q[]).reverse()
    expect(entries).toHaveLength(cases.length)
    for (const [i, c] of cases.entries()) {
      const e = entries[i]!
      expect(e, c.name).toMatchObject({ deviceId: bin.id, code: c.code })
      expect(e.reason, c.name).toMatch(c.reason)
      if (c.path)
        expect(
          e.issues.map((x) => x.path),
          c.name,
        ).toContain(c.path)
      expect(Buffer.from(e.payload, 'base64').equals(Buffer.from(c.payload)), c.name).toBe(true)
    }

    const where = `"device_id" = '${bin.id}'`
    await waitFor(async () => (await countPoints(svc.influxUrl, svc.db, 'bin', where)) === cases.length, 3_000)

    const metrics = await (await svc.api('/metrics')).text()
    expect(metrics).toMatch(/sp_ingest_quarantined_total\{code="PAYLOAD_INVALID"\} 3/)
    expect(metrics).toMatch(/sp_ingest_readings_total\{outcome="accepted",type="bin"\} 7/)
  })

  it('closes a connection whose packet exceeds the size limit and keeps serving others', async () => {
    const other = await svc.provision({ id: 'bin-big', type: 'bin', site: 'depot' })
    const big = await connectDevice(svc.mqttUrl, other.id, other.secret)
    const closed = new Promise<void>((r) => big.once('close', () => r()))
    big.publish(telemetryTopic(other), Buffer.alloc(200 * 1024, 0x20), { qos: 1 })
    await closed
    big.end(true)

    const before = await countPoints(svc.influxUrl, svc.db, 'bin', `"device_id" = '${bin.id}'`)
    await client.publishAsync(telemetryTopic(bin), good(0.3, Date.now()), { qos: 1 })
    await waitFor(async () => (await countPoints(svc.influxUrl, svc.db, 'bin', `"device_id" = '${bin.id}'`)) === before + 1, 3_000)
    expect((await svc.api('/metrics').then((r) => r.text())).match(/sp_mqtt_refused_total\{reason="packet-too-large"\} 1/)).not.toBeNull()
    // The oversize payload never reached ingest, so nothing was quarantined for it.
    expect((await (await svc.api(`/api/quarantine?deviceId=${other.id}`)).json()) as Q[]).toHaveLength(0)
  })
})
