import { rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { countPoints, startService, type TestService, waitFor } from '../helpers/service.ts'
import { fixture, recent } from '../tts/fixtures.ts'
import { type Answer, iso, makeSecret, map, points, post } from '../tts/http.ts'

/**
 * Issue 14, acceptance 4: recorded TTS uplink documents land as readings; a bad decoded_payload
 * is quarantined with the uplink's identifiers; a repeated f_cnt lands once; the webhook does not
 * answer 2xx when the log is at its ceiling (and does again once it has room).
 */

/** The recorded EM310-UDL uplink from a second, mapped sensor (the recorded one stays unmapped below). */
const EM310_EUI = '24E124713B40A0A0'
const em310Mapped = (agoMs: number) => {
  const d = recent(fixture('milesight-em310-udl-tilt'), agoMs)
  d.end_device_ids.device_id = 'em310-station-rd-02'
  d.end_device_ids.dev_eui = EM310_EUI
  return d
}
/** A point's measured fields: InfluxDB answers null for a field of the measurement this point does not have. */
const measured = (ps: Record<string, unknown>[]) => ps.map((p) => Object.fromEntries(Object.entries(p).filter(([, v]) => v !== null)))

describe('The Things Stack webhook into a real service', () => {
  let svc: TestService
  let waste: string
  let housing: string
  let firstDataDir: string | null = null

  beforeAll(async () => {
    svc = await startService()
    firstDataDir = svc.dataDir
    await svc.provision({ id: 'bin-em400', type: 'bin' })
    await svc.provision({ id: 'bin-ldds75', type: 'bin' })
    await svc.provision({ id: 'bin-em310', type: 'bin' })
    await svc.provision({ id: 'room-ers', type: 'room' })
    waste = await makeSecret(svc, 'croydon-waste')
    housing = await makeSecret(svc, 'croydon-housing')
    await map(svc, { devEui: '24E124713C201234', deviceId: 'bin-em400', decoder: 'milesight-em310-udl', params: { depthMm: 1200 } })
    await map(svc, {
      applicationId: 'croydon-waste',
      ttsDeviceId: 'ldds75-park-lane-02',
      deviceId: 'bin-ldds75',
      decoder: 'dragino-ldds75',
      params: { depthMm: 1500, fullMm: 250 },
    })
    await map(svc, { devEui: 'A81758FFFE04A1B2', deviceId: 'room-ers', decoder: 'elsys-ers' })
    await map(svc, { devEui: EM310_EUI, deviceId: 'bin-em310', decoder: 'milesight-em310-udl', params: { depthMm: 1200 } })
  })
  afterAll(async () => {
    await svc?.close()
    // The restart below reuses the first service's data folder, which its close then leaves in place.
    if (firstDataDir) rmSync(firstDataDir, { recursive: true, force: true })
  })

  it('lands recorded uplinks as readings at their received_at, through the readings API', async () => {
    const em400 = recent(fixture('milesight-em400-mud'), 60_000)
    const ldds75 = recent(fixture('dragino-ldds75'), 50_000)
    const ers = recent(fixture('elsys-ers-co2'), 40_000)
    expect((await post(svc, waste, em400)).body.outcome).toBe('accepted')
    expect((await post(svc, waste, ldds75)).body.outcome).toBe('accepted')
    expect((await post(svc, housing, ers)).body.outcome).toBe('accepted')

    const bin = await waitFor(async () => (await points(svc, 'bin-em400')).length > 0 && points(svc, 'bin-em400'), 10_000)
    expect(bin).toEqual([{ time: iso(em400), fillingLevel: 0.303, temperature: 25.7, batteryPct: 92, tilted: 0 }])
    const dragino = await waitFor(async () => (await points(svc, 'bin-ldds75')).length > 0 && points(svc, 'bin-ldds75'), 10_000)
    // No tilt sensor: no tilted field written (before, a made-up "upright" 0).
    expect(measured(dragino)).toEqual([{ time: iso(ldds75), fillingLevel: 0.4, temperature: 12.5, batteryPct: 84 }])
    const room = await waitFor(async () => (await points(svc, 'room-ers')).length > 0 && points(svc, 'room-ers'), 10_000)
    expect(room).toEqual([{ time: iso(ers), temperature: 21.8, humidity: 70 }])
  })

  it('lands an EM310-UDL uplink, which has no temperature, with the fields it measured (it used to be quarantined)', async () => {
    const doc = em310Mapped(45_000)
    expect((await post(svc, waste, doc)).body.outcome).toBe('accepted')
    const got = await waitFor(async () => (await points(svc, 'bin-em310')).length > 0 && points(svc, 'bin-em310'), 10_000)
    expect(measured(got)).toEqual([{ time: iso(doc), fillingLevel: 0, batteryPct: 87, tilted: 1 }])
    expect(((await (await svc.api('/api/quarantine?deviceId=bin-em310')).json()) as unknown[]).length).toBe(0)
  })

  it("refuses a missing or wrong secret (401) and another application's secret (403), storing nothing", async () => {
    const doc = recent(fixture('milesight-em400-mud'), 30_000, { fCnt: 9001 })
    const none = await post(svc, null, doc)
    expect([none.status, none.body.error?.code]).toEqual([401, 'TTS_SECRET_INVALID'])
    const wrong = await post(svc, `${waste.slice(0, -2)}xx`, doc)
    expect([wrong.status, wrong.body.error?.code]).toEqual([401, 'TTS_SECRET_INVALID'])
    const admin = await post(svc, svc.token, doc)
    expect(admin.status).toBe(401)
    const other = await post(svc, housing, doc)
    expect([other.status, other.body.error?.code]).toEqual([403, 'TTS_APPLICATION_MISMATCH'])
    // The same document with the right secret is new: none of the refusals took its frame.
    expect((await post(svc, waste, doc)).body.outcome).toBe('accepted')
  })

  it("quarantines a bad decoded_payload with the uplink's identifiers, and an unmapped device too", async () => {
    const bad = recent(fixture('milesight-em400-mud'), 20_000, {
      fCnt: 4200,
      decoded: { battery: 255, temperature: 24.1, distance: 640, position: 'normal' },
    })
    expect((await post(svc, waste, bad)).body.outcome).toBe('quarantined')
    const unmapped = recent(fixture('milesight-em310-udl-tilt'), 20_000)
    expect((await post(svc, waste, unmapped)).body.outcome).toBe('quarantined')

    type Entry = { deviceId: string | null; topic: string; code: string; reason: string; issues: { path: string }[]; payload: string }
    const list = async (q: string) => (await (await svc.api(`/api/quarantine?${q}`)).json()) as Entry[]
    const [entry] = await waitFor(async () => {
      const l = await list('deviceId=bin-em400')
      return l.length > 0 && l
    }, 10_000)
    expect(entry).toMatchObject({ deviceId: 'bin-em400', topic: 'tts/croydon-waste/em400-high-st-04/up', code: 'PAYLOAD_INVALID' })
    expect(entry!.reason).toContain('application croydon-waste, device em400-high-st-04, dev_eui 24E124713C201234, f_cnt 4200')
    expect(entry!.issues.map((i) => i.path)).toEqual(['readings.batteryPct'])
    // Kept in our own envelope, so a replay after a fix takes it like MQTT telemetry.
    expect(JSON.parse(Buffer.from(entry!.payload, 'base64').toString()).readings.batteryPct).toBe(255)

    const unknown = await waitFor(
      async () => (await list('code=DEVICE_UNKNOWN')).find((e) => e.topic.includes('em310-market-sq-11')),
      10_000,
    )
    expect(unknown.deviceId).toBeNull()
    expect(unknown.reason).toContain('application croydon-waste, device em310-market-sq-11, dev_eui 24E124713B405678, f_cnt 988')
    expect(await countPoints(svc.influxUrl, svc.db, 'bin', `"device_id" = 'bin-em400' AND "batteryPct" = 255`)).toBe(0)
  })

  it('lands a repeated f_cnt once: the same delivery again, a confirmed retransmission, and after a restart', async () => {
    const doc = recent(fixture('dragino-ldds75'), 10_000, { fCnt: 777 })
    const retransmitted = structuredClone(doc)
    retransmitted.received_at = new Date(Date.parse(iso(doc)) + 4_000).toISOString()
    expect((await post(svc, waste, doc)).body.outcome).toBe('accepted')
    expect((await post(svc, waste, doc)).body.outcome).toBe('duplicate')
    const again = await post(svc, waste, retransmitted)
    expect([again.status, again.body.outcome]).toEqual([200, 'duplicate'])
    // The same uplink twice at once (MQTT and webhook both on): one lands, the other waits its turn and is a repeat.
    const both = recent(fixture('dragino-ldds75'), 9_000, { fCnt: 778 })
    const outcomes = await Promise.all([post(svc, waste, both), post(svc, waste, both)])
    expect(outcomes.map((a) => a.body.outcome).sort()).toEqual(['accepted', 'duplicate'])
    // A rejoin: the counter starts again; an uplink with a low f_cnt and a newer time is a new reading.
    const afterRejoin = recent(fixture('dragino-ldds75'), 5_000, { fCnt: 0 })
    afterRejoin.uplink_message.session_key_id = 'AZNzRejoinedSessionKeyId=='
    expect((await post(svc, waste, afterRejoin)).body.outcome).toBe('accepted')

    const metrics = await (await svc.api('/metrics')).text()
    expect(metrics).toMatch(/sp_tts_uplinks_total\{outcome="duplicate"\} 3\b/)

    // The frames taken are in the store: a restart still knows them.
    const { dataDir, db, token } = svc
    await svc.service.close()
    svc = await startService({}, { dataDir, db, token })
    expect((await post(svc, waste, doc)).body.outcome).toBe('duplicate')

    const where = `"device_id" = 'bin-ldds75' AND time = ${Date.parse(iso(doc))}ms`
    await waitFor(async () => (await countPoints(svc.influxUrl, svc.db, 'bin', `"device_id" = 'bin-ldds75'`)) >= 4, 10_000)
    expect(await countPoints(svc.influxUrl, svc.db, 'bin', where)).toBe(1)
    const retransmittedAt = `"device_id" = 'bin-ldds75' AND time = ${Date.parse(retransmitted.received_at)}ms`
    expect(await countPoints(svc.influxUrl, svc.db, 'bin', retransmittedAt)).toBe(0)
  })

  it('catches up missed uplinks from the Storage Integration; ones already taken land once', async () => {
    const taken = recent(fixture('elsys-ers-co2'), 9 * 60_000, { fCnt: 6001, decoded: { temperature: 18.1, humidity: 61 } })
    expect((await post(svc, housing, taken)).body.outcome).toBe('accepted')
    const missed = [7, 8].map((m) =>
      recent(fixture('elsys-ers-co2'), m * 60_000, { fCnt: 6000 + m, decoded: { temperature: 18 + m / 10, humidity: 60 } }),
    )
    const asked: { url: string; auth: string | undefined }[] = []
    const storage = createServer((req, res) => {
      asked.push({ url: req.url!, auth: req.headers.authorization })
      if (req.headers.authorization !== 'Bearer NNSXS.TESTKEY') return res.writeHead(401).end('{"code":16}')
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      // Newline-delimited {"result": <ApplicationUp>}, oldest first, as TTS streams it.
      for (const doc of [taken, ...missed]) res.write(`${JSON.stringify({ result: doc })}\n\n`)
      res.end()
    })
    await new Promise<void>((r) => storage.listen(0, '127.0.0.1', r))
    const baseUrl = `http://127.0.0.1:${(storage.address() as AddressInfo).port}`
    try {
      const after = new Date(Date.now() - 10 * 60_000).toISOString()
      const call = (apiKey: string) =>
        svc.api('/api/integrations/tts/applications/croydon-housing/catch-up', {
          method: 'POST',
          body: JSON.stringify({ baseUrl, apiKey, after }),
        })
      const refused = await call('NNSXS.WRONG')
      expect([refused.status, ((await refused.json()) as Answer['body']).error?.code]).toEqual([503, 'TTS_UNREACHABLE'])
      const res = await call('NNSXS.TESTKEY')
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({
        fetched: 3,
        outcomes: { duplicate: 1, accepted: 2 },
        lastReceivedAt: missed[1]!.received_at,
        stopped: null,
      })
      const q = new URL(asked.at(-1)!.url, baseUrl)
      expect(q.pathname).toBe('/api/v3/as/applications/croydon-housing/packages/storage/uplink_message')
      expect(q.searchParams.get('after')).toBe(after)
    } finally {
      await new Promise<void>((r) => storage.close(() => r()))
    }
    const where = `"device_id" = 'room-ers' AND "humidity" >= 60 AND "humidity" <= 61`
    await waitFor(async () => (await countPoints(svc.influxUrl, svc.db, 'room', where)) === 3, 10_000)
  })

  it('answers 200 to documents that are not readings, and stores nothing for them', async () => {
    expect((await post(svc, waste, recent(fixture('join-accept'), 1_000))).body.outcome).toBe('ignored')
    expect((await post(svc, waste, recent(fixture('milesight-device-info'), 1_000))).body.outcome).toBe('skipped')
  })
  it('audits who mapped and unmapped a TTS device, and an unmapped device’s next uplink is quarantined as unknown', async () => {
    type Entry = { actor: string; action: string; target: string | null; at: string; detail: Record<string, unknown> | null }
    const entries = async (action: string) => (await (await svc.api(`/api/audit?action=${action}`)).json()) as Entry[]
    const added = await entries('tts-mapping-added')
    expect(added.map((e) => e.target).sort()).toEqual(
      [`eui:24E124713C201234`, 'dev:croydon-waste:ldds75-park-lane-02', 'eui:A81758FFFE04A1B2', `eui:${EM310_EUI}`]
        .map((k) => `tts-mapping:${k}`)
        .sort(),
    )
    const ers = added.find((e) => e.target === 'tts-mapping:eui:A81758FFFE04A1B2')!
    expect(ers.detail).toEqual({ deviceId: 'room-ers', decoder: 'elsys-ers' })
    expect(ers.actor).not.toBe('anonymous')
    expect(Date.now() - Date.parse(ers.at)).toBeLessThan(10 * 60_000)

    const res = await svc.api('/api/integrations/tts/mappings/eui:A81758FFFE04A1B2', { method: 'DELETE' })
    expect(res.status).toBe(204)
    const removed = await entries('tts-mapping-removed')
    expect(removed.map((e) => [e.target, e.actor])).toEqual([['tts-mapping:eui:A81758FFFE04A1B2', ers.actor]])
    const after = await post(svc, housing, recent(fixture('elsys-ers-co2'), 2_000))
    expect(after.status).toBe(200)
    expect(after.body.outcome).toBe('quarantined')
  })
})
