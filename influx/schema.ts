import { type DeviceTypeDef, deviceTypeOf, type ReadingRecord } from '#devices'
import { linePrefix, lineWith } from './line-protocol.ts'
import { type InfluxQuery, ident, quote } from './query.ts'

/**
 * The InfluxDB schema (design D6), known here and nowhere else: one measurement
 * per device type; tags site and device_id (+ uprn for homes); numbers as floats;
 * `suspect=1` on readings outside their plausible band.
 */
// Per device, the escaped measurement and tags; rebuilt only when its site, type or UPRN differs.
const prefixes = new Map<string, { site: string; type: string; uprn: string | null; prefix: string }>()

/** The line for one accepted reading; null when no field has a value (or the type is unknown). */
export function readingLine(r: ReadingRecord): string | null {
  let p = prefixes.get(r.deviceId)
  if (!p || p.site !== r.site || p.type !== r.type || p.uprn !== r.uprn) {
    const def = deviceTypeOf(r.type)
    if (!def) return null
    p = {
      site: r.site,
      type: r.type,
      uprn: r.uprn,
      prefix: linePrefix(def.measurement, { site: r.site, device_id: r.deviceId, uprn: r.uprn }),
    }
    // Bounded by the fleet; cleared wholesale if something odd grows it.
    if (prefixes.size > 200_000) prefixes.clear()
    prefixes.set(r.deviceId, p)
  }
  return lineWith(p.prefix, r.quality === 'suspect' ? { ...r.readings, suspect: 1 } : r.readings, r.ts)
}

export interface ReadingsRange {
  deviceId: string
  from: number
  to: number
  /** InfluxQL duration for means per step, or null for raw points. */
  every: string | null
  maxPoints: number
}

/** A device's history, as points with ISO times and its fields (tags dropped). */
export async function queryReadings(influx: InfluxQuery, def: DeviceTypeDef, r: ReadingsRange) {
  const where = `"device_id" = ${quote(r.deviceId)} AND time >= ${r.from}ms AND time <= ${r.to}ms`
  const numeric = Object.entries(def.fields).filter(([, m]) => m.unit !== 'code')
  const q = r.every
    ? `SELECT ${numeric.map(([f]) => `mean(${ident(f)}) AS ${ident(f)}`).join(', ')} FROM ${ident(def.measurement)} WHERE ${where} GROUP BY time(${r.every}) fill(none)`
    : `SELECT * FROM ${ident(def.measurement)} WHERE ${where} ORDER BY time ASC LIMIT ${r.maxPoints}`
  const rows = await influx.query(q)
  return rows.map(({ time, device_id: _d, site: _s, uprn: _u, ...rest }) => ({ time: new Date(time).toISOString(), ...rest }))
}

/** InfluxDB 1.x needs the database created; 2.x maps it through DBRP and refuses the statement, which is fine. */
export async function ensureDatabase(
  c: { url: string; db: string; token: string | undefined },
  warn: (msg: string, detail: object) => void,
): Promise<void> {
  try {
    const res = await fetch(`${c.url}/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(c.token ? { Authorization: `Token ${c.token}` } : {}) },
      body: new URLSearchParams({ q: `CREATE DATABASE "${c.db}"` }),
      signal: AbortSignal.timeout(5_000),
    })
    if (!res.ok) warn('CREATE DATABASE refused; assuming the database or bucket exists', { status: res.status })
  } catch (e) {
    warn('InfluxDB not reachable; readings wait in the log until it is', { err: (e as Error).message })
  }
}
