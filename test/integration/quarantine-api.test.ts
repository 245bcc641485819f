import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openRegistry } from '../../store/registry.ts'
import { binReading } from '../helpers/load.ts'
import { connectDevice, countPoints, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'

interface Entry {
  id: number
  deviceId: string
  deviceType: string
  code: string
  receivedAt: string
}

describe('quarantine: inspect, filter, count, replay (issue 3)', () => {
  let svc: TestService
  beforeAll(async () => {
    // A strict clock window at first: readings 2 minutes ahead are refused.
    svc = await startService({ TIME_EARLY_S: '0' })
  })
  afterAll(() => svc?.close())

  it('filters by device, type, code and time, counts per device, and replays after a fix', async () => {
    const bin = await svc.provision({ id: 'bin-q', type: 'bin', site: 'q' })
    const meter = await svc.provision({ id: 'meter-q', type: 'meter', site: 'q' })
    const cb = await connectDevice(svc.mqttUrl, bin.id, bin.secret)
    const cm = await connectDevice(svc.mqttUrl, meter.id, meter.secret)
    const ahead = Date.now() + 120_000
    await cb.publishAsync(telemetryTopic(bin), binReading(ahead), { qos: 1 })
    await cb.publishAsync(telemetryTopic(bin), binReading(ahead + 1000), { qos: 1 })
    await cb.publishAsync(telemetryTopic(bin), 'not json', { qos: 1 })
    await cm.publishAsync(telemetryTopic(meter), JSON.stringify({ readings: { energyWh: -5, powerW: 10 } }), { qos: 1 })
    await cb.endAsync()
    await cm.endAsync()

    const get = async (q: string) => (await (await svc.api(`/api/quarantine${q}`)).json()) as Entry[]
    expect(await get('')).toHaveLength(4)
    expect((await get('?type=meter')).map((e) => e.deviceId)).toEqual(['meter-q'])
    expect((await get('?deviceId=bin-q&code=TIMESTAMP_OUT_OF_WINDOW')).map((e) => e.deviceType)).toEqual(['bin', 'bin'])
    expect(await get(`?from=${new Date(Date.now() + 60_000).toISOString()}`)).toHaveLength(0)
    expect(await get(`?to=${new Date(Date.now() - 60_000).toISOString()}`)).toHaveLength(0)

    const summary = (await (await svc.api('/api/quarantine/summary')).json()) as { deviceId: string; code: string; count: number }[]
    expect(summary).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ deviceId: 'bin-q', code: 'TIMESTAMP_OUT_OF_WINDOW', count: 2 }),
        expect.objectContaining({ deviceId: 'bin-q', code: 'PAYLOAD_NOT_JSON', count: 1 }),
        expect.objectContaining({ deviceId: 'meter-q', code: 'PAYLOAD_INVALID', count: 1 }),
      ]),
    )

    // The fix: a normal clock-skew allowance. Restart on the same data with it and replay bin-q.
    const { dataDir, db, token } = svc
    await svc.service.close()
    svc = await startService({}, { dataDir, db, token })
    const res = await svc.api('/api/quarantine/replay', { method: 'POST', body: JSON.stringify({ deviceId: 'bin-q' }) })
    expect(await res.json()).toEqual({ replayed: 3, accepted: 2, rejected: 1, skipped: 0 })
    await waitFor(async () => (await countPoints(svc.influxUrl, svc.db, 'bin', `"device_id" = 'bin-q'`)) === 2, 3_000)
    expect((await get('?deviceId=bin-q')).map((e) => e.code)).toEqual(['PAYLOAD_NOT_JSON'])
    const close = svc.close
    svc.close = async () => {
      await close()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })

  it('keeps quarantine bounded by age and count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sp-q-'))
    const reg = await openRegistry({ dataDir: dir, quarantineMax: 100, quarantineMaxAgeMs: 86_400_000 })
    const add = (at: Date) =>
      reg.quarantine.add({
        receivedAt: at,
        deviceId: 'x',
        topic: 't',
        code: 'PAYLOAD_NOT_JSON',
        reason: 'r',
        issues: [],
        payload: Buffer.from('x'),
      })
    for (let i = 0; i < 10; i++) await add(new Date(Date.now() - 2 * 86_400_000))
    for (let i = 0; i < 150; i++) await add(new Date())
    expect(await reg.quarantine.prune()).toBe(60)
    expect(await reg.quarantine.count()).toBe(100)
    await reg.close()
    rmSync(dir, { recursive: true, force: true })
  })
})
