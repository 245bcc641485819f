import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { countPoints, startService, type TestService, waitFor } from '../helpers/service.ts'
import { fixture, recent } from '../tts/fixtures.ts'
import { type Answer, makeSecret, map, post } from '../tts/http.ts'

/** Issue 14, acceptance 4: the TTS webhook does not answer 2xx when the log is at its ceiling. */

/** An InfluxDB in front of the real one that can be made unreachable: its writer then holds the log. */
async function switchableInflux(target: string) {
  let down = false
  const server: Server = createServer(async (req, res) => {
    if (down) return req.socket.destroy()
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    try {
      const body = chunks.length ? Buffer.concat(chunks) : undefined
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== 'host' && k !== 'connection')) as Record<
        string,
        string
      >
      const r = await fetch(`${target}${req.url}`, { method: req.method!, headers, ...(body ? { body } : {}) })
      // fetch has already undone any content encoding: the length and encoding headers no longer hold.
      const passed = [...r.headers].filter(([k]) => !['content-encoding', 'content-length', 'transfer-encoding', 'connection'].includes(k))
      res.writeHead(r.status, Object.fromEntries(passed))
      res.end(Buffer.from(await r.arrayBuffer()))
    } catch {
      req.socket.destroy()
    }
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    set down(v: boolean) {
      down = v
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}

describe('The Things Stack webhook at the log ceiling', () => {
  let svc: TestService
  let influx: Awaited<ReturnType<typeof switchableInflux>>

  beforeAll(async () => {
    influx = await switchableInflux(inject('influxUrl'))
    svc = await startService({ SPOOL_MAX_MB: '1', SPOOL_FSYNC: 'off' }, { influxUrl: influx.url })
  })
  afterAll(async () => {
    await svc?.close()
    await influx?.close()
  })

  it('answers 503 with Retry-After and stores nothing while the log is full, and 200 again once it has room', {
    timeout: 90_000,
  }, async () => {
    await svc.provision({ id: 'room-fill', type: 'room' })
    const secret = await makeSecret(svc, 'croydon-housing')
    await map(svc, { devEui: 'A81758FFFE04A1B2', deviceId: 'room-fill', decoder: 'elsys-ers' })
    const base = fixture('elsys-ers-co2')
    const t0 = Date.now() - 3_600_000

    // InfluxDB unreachable: its writer cannot pass its records, so the log keeps them until its 1 MB ceiling.
    influx.down = true
    const good = Array.from({ length: 5 }, (_, n) =>
      recent(base, 0, { fCnt: n, now: t0 + n * 60_000, decoded: { temperature: 20, humidity: 50 + n } }),
    )
    for (const doc of good) expect((await post(svc, secret, doc)).body.outcome).toBe('accepted')
    // Bad uplinks fill it fastest: each is quarantined with its whole document, some 40 KB here.
    let fCnt = 100
    let refused: Answer | null = null
    while (!refused && fCnt < 200) {
      const bad = recent(base, 0, { fCnt: fCnt++, decoded: { temperature: 'x'.repeat(40_000), humidity: 50 } })
      const a = await post(svc, secret, bad)
      if (a.status === 200) expect(a.body.outcome).toBe('quarantined')
      else refused = a
    }
    expect(refused?.status).toBe(503)
    expect(refused?.body.error?.code).toBe('NOT_STORED')
    expect(refused?.body.error?.message).toMatch(/LOG_CEILING/)
    expect(refused?.retryAfter).toBe('30')

    // A fresh uplink now: refused, not acknowledged.
    const probe = recent(base, 0, { fCnt: 50_000, now: t0 - 60_000, decoded: { temperature: 33.3, humidity: 33 } })
    const atCeiling = await post(svc, secret, probe)
    expect([atCeiling.status, atCeiling.retryAfter]).toEqual([503, '30'])
    const ready = (await (await fetch(`${svc.url}/ready`)).json()) as { status: string }
    expect(ready.status).toBe('degraded')

    // InfluxDB back: the writer drains, the log frees its segments and takes appends again.
    influx.down = false
    const after = await waitFor(
      async () => {
        const a = await post(svc, secret, probe)
        return a.status === 200 && a
      },
      60_000,
      500,
    )
    // Sent again, the refused uplink is a new reading: the refusal took nothing, not even its frame.
    expect(after.body.outcome).toBe('accepted')
    const where = `"device_id" = 'room-fill' AND "temperature" = 33.3`
    await waitFor(async () => (await countPoints(inject('influxUrl'), svc.db, 'room', where)) === 1, 20_000)
    expect(await countPoints(inject('influxUrl'), svc.db, 'room', where)).toBe(1)
    // The uplinks acknowledged before the ceiling are there too, once each.
    const before = `"device_id" = 'room-fill' AND "temperature" = 20`
    expect(await countPoints(inject('influxUrl'), svc.db, 'room', before)).toBe(good.length)
  })
})
