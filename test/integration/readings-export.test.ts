import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditEntry, ReadingRecord } from '#devices'
import { readingLine } from '../../influx/schema.ts'
import { type AuthzFixture, type Caller, call, SITE, startAuthzFixture, UPRN } from '../helpers/authz-fixture.ts'
import { parseCsv } from '../helpers/csv.ts'

/**
 * Issue 10: "exports" are audited, and "authorisation everywhere … every export". The staff export
 * is a device's reading history as CSV: the same readings as the JSON route for the same window,
 * the same scope (a device outside the caller's areas, or of a kind their role does not read,
 * answers as a missing one), and an audit entry per download with who, what, the window and from where.
 */

const LOOPBACK = /^(::ffff:)?127\.0\.0\.1$|^::1$/
const MIN = 60_000
const iso = (ms: number) => new Date(ms).toISOString()

interface Readings {
  deviceId: string
  from: string
  to: string
  every: string | null
  points: Record<string, unknown>[]
}

describe('exporting a device’s readings as CSV', () => {
  let f: AuthzFixture
  // Whole minutes, so that a mean per 10 minutes falls on the readings' own buckets.
  const t0 = Math.floor((Date.now() - 3 * 3_600_000) / (10 * MIN)) * 10 * MIN
  const window = `from=${iso(t0 - MIN)}&to=${iso(t0 + 60 * MIN)}`

  beforeAll(async () => {
    f = await startAuthzFixture()
    const boiler = (ts: number, readings: ReadingRecord['readings'], quality: ReadingRecord['quality'] = 'good') =>
      readingLine({
        kind: 'reading',
        deviceId: f.devices.a.boiler,
        type: 'boiler',
        site: SITE.a,
        uprn: UPRN.boilerA,
        ts,
        receivedAt: ts,
        readings,
        quality,
      })
    const lines = [
      boiler(t0, { flowTemp: 61.5, returnTemp: 48, pressureBar: 1.4, burnerOn: true, lockout: false }),
      // A fault code is a string field; a reading outside its plausible band is kept, marked suspect.
      boiler(t0 + 5 * MIN, { flowTemp: 30, returnTemp: 29.5, pressureBar: 0.4, burnerOn: false, lockout: true, faultCode: 'F.22' }),
      boiler(t0 + 10 * MIN, { flowTemp: 99, returnTemp: 60, pressureBar: 1.1, burnerOn: true, lockout: false }, 'suspect'),
      boiler(t0 + 25 * MIN, { flowTemp: 55.25, returnTemp: 44, pressureBar: 1.3, burnerOn: true, lockout: false, roomHumidity: 71 }),
    ]
    const res = await fetch(`${f.svc.influxUrl}/write?db=${f.svc.db}&precision=ms`, { method: 'POST', body: lines.join('\n') })
    expect(res.status, await res.text()).toBe(204)
  })
  afterAll(async () => {
    await f?.close()
  })

  const get = async (caller: Pick<Caller, 'headers'>, path: string) => call(f.svc, caller, 'GET', path)
  const exports = async () => (await f.registry.audit.list({ action: 'export', limit: 500 })) as AuditEntry[]

  /** The CSV's records as objects by its header; every cell a string, as in the file. */
  const rowsOf = (text: string) => {
    const [header, ...records] = parseCsv(text)
    return { header: header!, rows: records.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i]!]))) }
  }
  /** A JSON value as the CSV writes it: nothing for a missing value, else its text. */
  const cell = (v: unknown) => (v === null || v === undefined ? '' : String(v))

  for (const every of [null, '10m'] as const) {
    it(`holds exactly the points of the JSON readings route for the same window (${every ? `means per ${every}` : 'raw points'})`, async () => {
      const housing = f.caller('housing')
      const q = `${window}${every ? `&every=${every}` : ''}`
      const jsonRes = await get(housing, `/api/devices/${f.devices.a.boiler}/readings?${q}`)
      expect(jsonRes.status).toBe(200)
      const json = (await jsonRes.json()) as Readings
      expect(json.points.length).toBe(every ? 3 : 4)

      const res = await get(housing, `/api/devices/${f.devices.a.boiler}/readings.csv?${q}`)
      const text = await res.text()
      expect(res.status, text).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/)
      expect(res.headers.get('content-disposition')).toMatch(
        new RegExp(`^attachment; filename="${f.devices.a.boiler}-readings-[0-9TZ]+-[0-9TZ]+\\.csv"$`),
      )
      expect(text.endsWith('\r\n')).toBe(true)

      const { header, rows } = rowsOf(text)
      expect(header[0]).toBe('time')
      // Every field the JSON answers with a value is a column, and each row says what its point says.
      for (const p of json.points) for (const [k, v] of Object.entries(p)) if (v !== null) expect(header, k).toContain(k)
      expect(rows).toEqual(json.points.map((p) => Object.fromEntries(header.map((h) => [h, cell(p[h])]))))
      if (!every) {
        expect(rows.map((r) => r.faultCode)).toEqual(['', 'F.22', '', ''])
        expect(rows.map((r) => r.suspect)).toEqual(['', '', '1', ''])
        expect(rows[3]).toMatchObject({ time: iso(t0 + 25 * MIN), flowTemp: '55.25', roomHumidity: '71' })
      } else {
        // Means carry no fault codes: the column is not there, as the JSON has none.
        expect(header).not.toContain('faultCode')
        expect(rows[0]).toMatchObject({ time: iso(t0), flowTemp: String((61.5 + 30) / 2) })
      }
    })
  }

  it('records each download in the audit log: who, which device, the window and from where', async () => {
    const housing = f.caller('housing', 'token')
    const before = (await exports()).length
    const from = iso(t0 - MIN)
    const to = iso(t0 + 60 * MIN)
    const res = await get(housing, `/api/devices/${f.devices.a.boiler}/readings.csv?from=${from}&to=${to}&every=10m`)
    expect(res.status).toBe(200)
    await res.text()

    const after = await exports()
    expect(after.length).toBe(before + 1)
    expect(after[0]).toMatchObject({
      actor: housing.actor,
      action: 'export',
      target: `device:${f.devices.a.boiler}`,
      detail: { what: 'readings', format: 'csv', from, to, every: '10m', rows: 3 },
    })
    expect(after[0]!.address).toMatch(LOOPBACK)
    expect(Date.now() - Date.parse(after[0]!.at)).toBeLessThan(60_000)

    // Through the admin's API too, where the log is read.
    const listed = (await (await f.svc.api('/api/audit?action=export&limit=1')).json()) as AuditEntry[]
    expect(listed).toEqual([after[0]])

    // A HEAD carries nothing away: not an export.
    const head = await call(f.svc, housing, 'HEAD', `/api/devices/${f.devices.a.boiler}/readings.csv?from=${from}&to=${to}`)
    expect(head.status).toBe(200)
    expect((await exports()).length).toBe(before + 1)
  })

  it('answers as missing for a device outside the caller’s areas, and audits nothing', async () => {
    const before = (await exports()).length
    const housing = f.caller('housing')
    const outside = await get(housing, `/api/devices/${f.devices.b.boiler}/readings.csv?${window}`)
    const missing = await get(housing, `/api/devices/no-such-boiler/readings.csv?${window}`)
    expect(outside.status).toBe(404)
    expect(missing.status).toBe(404)
    const body = (await outside.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('NOT_FOUND')
    expect(body.error.message).not.toContain('site-b')
    await missing.text()
    // The admin reaches both areas.
    const admin = await get(f.caller('admin'), `/api/devices/${f.devices.b.boiler}/readings.csv?${window}`)
    expect(admin.status).toBe(200)
    await admin.text()
    const after = await exports()
    expect(after.length).toBe(before + 1)
    expect(after[0]).toMatchObject({ actor: f.caller('admin').actor, target: `device:${f.devices.b.boiler}` })
  })

  it('is housing data for a boiler: a crew member, an energy manager and a viewer of its own area cannot export it', async () => {
    const before = (await exports()).length
    for (const who of ['crew', 'energy', 'viewer'] as const) {
      for (const via of ['session', 'token'] as const) {
        const res = await get(f.caller(who, via), `/api/devices/${f.devices.a.boiler}/readings.csv?${window}`)
        expect(res.status, `${who} ${via}`).toBe(404)
        await res.text()
      }
    }
    // A crew member exports their own area's bin.
    const bin = await get(f.caller('crew'), `/api/devices/${f.devices.a.bin}/readings.csv?${window}`)
    expect(bin.status).toBe(200)
    expect(parseCsv(await bin.text())[0]).toEqual(['time', 'fillingLevel', 'temperature', 'batteryPct', 'tilted', 'suspect'])
    expect((await get(f.none, `/api/devices/${f.devices.a.bin}/readings.csv?${window}`)).status).toBe(401)
    const after = await exports()
    expect(after.length).toBe(before + 1)
    expect(after[0]).toMatchObject({ actor: f.caller('crew').actor, target: `device:${f.devices.a.bin}`, detail: { rows: 0 } })
  })

  it('refuses a window the JSON route refuses, before anything is read or audited', async () => {
    const before = (await exports()).length
    for (const q of [`from=${iso(t0)}&to=${iso(t0 - MIN)}`, `from=${iso(t0 - 30 * 86_400_000)}&to=${iso(t0)}`, 'every=1x']) {
      const res = await get(f.caller('housing'), `/api/devices/${f.devices.a.boiler}/readings.csv?${q}`)
      expect(res.status, q).toBe(400)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST')
    }
    expect((await exports()).length).toBe(before)
  })

  it('is described in the OpenAPI document as a CSV download of the readings route’s window', async () => {
    const doc = (await (await f.svc.api('/docs/json')).json()) as {
      paths: Record<string, Record<string, { parameters: { name: string; in: string }[]; responses: Record<string, unknown> }>>
    }
    const op = doc.paths['/api/devices/{id}/readings.csv']?.get
    expect(op).toBeDefined()
    expect(op!.parameters.filter((p) => p.in === 'query').map((p) => p.name)).toEqual(['from', 'to', 'every'])
    expect(op!.responses['200']).toMatchObject({ content: { 'text/csv': { schema: { type: 'string' } } } })
    expect(Object.keys(op!.responses).sort()).toEqual(['200', '400', '404', '429'])
  })
})
