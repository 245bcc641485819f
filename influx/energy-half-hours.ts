import { halfHourly, type RegisterBucket, type Series, SLOT_MS } from '#devices'
import { type InfluxQuery, ident, quote } from './query.ts'

/** The meter's measurement and register field (devices/catalog/energy-meter.ts, schema D6). */
const MEASUREMENT = 'meter'
const REGISTER = 'energyWh'

/**
 * A meter's half-hourly consumption over [from, to), from InfluxDB aggregates only: the first and
 * last register reading per 30-minute bucket (never raw points, so eight weeks are ~2,700 rows).
 * The bucket starting at `to` is read too: its first reading closes the last half-hour.
 */
export async function queryHalfHourly(influx: InfluxQuery, deviceId: string, from: number, to: number): Promise<Series> {
  const f = Math.floor(from / SLOT_MS) * SLOT_MS
  const t = Math.ceil(to / SLOT_MS) * SLOT_MS
  const q =
    `SELECT first(${ident(REGISTER)}) AS "first", last(${ident(REGISTER)}) AS "last" FROM ${ident(MEASUREMENT)} ` +
    `WHERE "device_id" = ${quote(deviceId)} AND time >= ${f}ms AND time < ${t + SLOT_MS}ms GROUP BY time(30m) fill(none)`
  const rows = await influx.query(q)
  const buckets: RegisterBucket[] = []
  for (const r of rows) {
    if (typeof r.first === 'number' && typeof r.last === 'number') buckets.push({ time: r.time, first: r.first, last: r.last })
  }
  return halfHourly(buckets, f, t)
}
