import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectDevice, countPoints, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'

type Device = { id: string; secret: string; site: string; type: string }
interface Quarantined {
  code: string
  reason: string
  issues: { path: string; message: string }[]
  payload: string
}

type Outcome =
  | { code: 'TIMESTAMP_OUT_OF_WINDOW' | 'PAYLOAD_INVALID'; issuePath: string; reason: RegExp }
  /** Accepted: the device time is "now" and the reading lands at its arrival time. */
  | { accepted: 'arrival-time' }

interface Case {
  name: string
  payload: string
  expect: Outcome
}

const readings = '{"fillingLevel":0.5,"temperature":10,"batteryPct":80,"tilted":false}'
/** Native JSON with `ts` written literally, so that `-0`, `1e308` and `2^53` reach the server as written. */
const native = (ts: string) => `{"ts":${ts},"readings":${readings}}`
/** SenML (RFC 8428): the base time `bt` (seconds) written literally on the first record. */
const senml = (bt: string, t = '') =>
  `[{"bn":"urn:dev:sp:bin-ts:","bt":${bt},${t ? `"t":${t},` : ''}"n":"fillingLevel","u":"/","v":0.5},` +
  '{"n":"temperature","u":"Cel","v":10},{"n":"batteryPct","u":"%","v":80},{"n":"tilted","vb":false}]'

const windowed = (path: string, reason = /outside the accepted window/): Outcome => ({
  code: 'TIMESTAMP_OUT_OF_WINDOW',
  issuePath: path,
  reason,
})
const invalid = (path: string, reason: RegExp): Outcome => ({ code: 'PAYLOAD_INVALID', issuePath: path, reason })

// What devices/reading.ts makes of each edge:
//  - native `ts` is z.number().int().positive(): negatives, -0 (not > 0, like 0) and integers past 2^53 - 1
//    (Zod's int is a safe integer; 1e308 is one mathematically) are PAYLOAD_INVALID; 8.64e15 and 8.64e15 + 1 are
//    well-formed times far outside the window, the latter beyond Date's range (shown as the raw number).
//  - SenML `bt` is seconds: values below 2^28 count from now, so -8.64e15 s lies in the distant past; values whose
//    ms overflow to Infinity are PAYLOAD_INVALID; `-0` is time zero, which RFC 8428 defines as "now".
const cases: Case[] = [
  { name: 'native ts 8.64e15 (Date’s last ms)', payload: native('8.64e15'), expect: windowed('ts', /\+275760-09-13T00:00:00\.000Z/) },
  { name: 'native ts -8.64e15 (Date’s first ms)', payload: native('-8.64e15'), expect: invalid('ts', /envelope/) },
  { name: 'native ts 8.64e15 + 1', payload: native('8640000000000001'), expect: windowed('ts', /8640000000000001/) },
  { name: 'native ts 2^53', payload: native('9007199254740992'), expect: invalid('ts', /envelope/) },
  { name: 'native ts 1e308', payload: native('1e308'), expect: invalid('ts', /envelope/) },
  { name: 'native ts -0', payload: native('-0'), expect: invalid('ts', /envelope/) },
  // The same edges as ISO 8601 strings: the schema's pattern has no expanded (±YYYYYY) years.
  { name: 'native ts "+275760-09-13T00:00:00.000Z"', payload: native('"+275760-09-13T00:00:00.000Z"'), expect: invalid('ts', /envelope/) },
  { name: 'native ts "-271821-04-20T00:00:00.000Z"', payload: native('"-271821-04-20T00:00:00.000Z"'), expect: invalid('ts', /envelope/) },
  { name: 'native ts "9999-12-31T23:59:59.999Z"', payload: native('"9999-12-31T23:59:59.999Z"'), expect: windowed('ts', /9999-12-31/) },
  { name: 'SenML bt 8.64e15 s', payload: senml('8.64e15'), expect: windowed('ts', /8640000000000000000/) },
  { name: 'SenML bt -8.64e15 s (relative, far past)', payload: senml('-8.64e15'), expect: windowed('ts') },
  { name: 'SenML bt 8.64e15 + 1 s', payload: senml('8640000000000001'), expect: windowed('ts') },
  { name: 'SenML bt 2^53 s', payload: senml('9007199254740992'), expect: windowed('ts') },
  { name: 'SenML bt 1e308 s (overflows as ms)', payload: senml('1e308'), expect: invalid('0.bt', /SenML/) },
  { name: 'SenML bt -1e308 s (overflows as ms)', payload: senml('-1e308'), expect: invalid('0.bt', /SenML/) },
  { name: 'SenML bt + t past Number.MAX_VALUE', payload: senml('1.7e308', '1.7e308'), expect: invalid('0.t', /SenML/) },
  { name: 'SenML bt 8.64e12 s (= 8.64e15 ms)', payload: senml('8.64e12'), expect: windowed('ts', /\+275760-09-13T00:00:00\.000Z/) },
  { name: 'SenML bt 8640000000000.001 s (= 8.64e15 + 1 ms)', payload: senml('8640000000000.001'), expect: windowed('ts') },
  { name: 'SenML bt -0 (time zero is "now")', payload: senml('-0'), expect: { accepted: 'arrival-time' } },
]

describe('hostile timestamps at the edges of the number range (issue 3, acceptance 5)', () => {
  let svc: TestService
  let dev: Device
  let client: MqttClient
  // Good readings: unique past times, one per case, that no edge value can collide with.
  let goodTs = Date.now() - 600_000

  beforeAll(async () => {
    svc = await startService()
    dev = await svc.provision({ id: 'bin-ts', type: 'bin', site: 'edges' })
    client = await connectDevice(svc.mqttUrl, dev.id, dev.secret)
  })
  afterAll(async () => {
    await client?.endAsync()
    await svc?.close()
  })

  const pointsBetween = (from: number, to: number) =>
    countPoints(svc.influxUrl, svc.db, 'bin', `"device_id" = '${dev.id}' AND time >= ${from}ms AND time <= ${to}ms`)
  const quarantined = async () => (await (await svc.api(`/api/quarantine?deviceId=${dev.id}&limit=1000`)).json()) as Quarantined[]

  it.each(cases)('$name: acknowledged, handled as reading.ts says, the service stays up and the next good reading lands', async (c) => {
    const b64 = Buffer.from(c.payload).toString('base64')
    const before = Date.now()
    // publishAsync resolves on the PUBACK of a QoS 1 message.
    expect(await client.publishAsync(telemetryTopic(dev), c.payload, { qos: 1 })).toMatchObject({ cmd: 'publish', qos: 1 })
    const after = Date.now()

    if ('code' in c.expect) {
      const { code, issuePath, reason } = c.expect
      const entry = await waitFor(async () => (await quarantined()).find((q) => q.payload === b64), 5_000)
      expect(entry.code).toBe(code)
      expect(entry.reason.trim().length).toBeGreaterThan(10)
      expect(entry.reason).toMatch(reason)
      expect(entry.issues.map((i) => i.path)).toContain(issuePath)
      expect(entry.issues.every((i) => i.message.length > 0)).toBe(true)
    }

    goodTs += 1000
    const good = JSON.stringify({ ts: goodTs, readings: { fillingLevel: 0.4, temperature: 10, batteryPct: 80, tilted: false } })
    expect(await client.publishAsync(telemetryTopic(dev), good, { qos: 1 })).toMatchObject({ cmd: 'publish', qos: 1 })
    expect((await fetch(`${svc.url}/health`)).status).toBe(200)
    expect(client.connected).toBe(true)
    await waitFor(async () => (await pointsBetween(goodTs, goodTs)) === 1, 5_000)

    if ('accepted' in c.expect) {
      // Stored once, at the time it arrived, and never quarantined.
      await waitFor(async () => (await pointsBetween(before, after)) === 1, 5_000)
      expect((await quarantined()).some((q) => q.payload === b64)).toBe(false)
    } else {
      // Nothing of the bad message landed anywhere near now.
      expect(await pointsBetween(before, after)).toBe(0)
    }
  })

  it('ends with exactly the good readings (plus the one "now" reading) in InfluxDB and one quarantine entry per bad case', async () => {
    const bad = cases.filter((c) => 'code' in c.expect).length
    const accepted = cases.length - bad
    expect(await countPoints(svc.influxUrl, svc.db, 'bin', `"device_id" = '${dev.id}'`)).toBe(cases.length + accepted)
    const q = await quarantined()
    expect(q).toHaveLength(bad)
    expect(new Set(q.map((e) => e.payload)).size).toBe(bad)
    const ready = await fetch(`${svc.url}/ready`)
    expect(ready.status).toBe(200)
    expect(((await ready.json()) as { status: string }).status).toBe('ready')
  })
})
