import { z } from 'zod'
import type { DeviceTypeDef } from './catalog/define.ts'
import type { ErrorCode } from './errors.ts'
import { fromSenml, SenmlPack, type UnitsOf } from './senml.ts'

/** Telemetry larger than this is refused before parsing: one reading is a few hundred bytes. */
export const MAX_TELEMETRY_BYTES = 16 * 1024

/**
 * Native JSON envelope: `{ "ts": <epoch ms | ISO 8601>, "seq"?: n, "readings": { ... } }`.
 * A JSON array is read as SenML (RFC 8428) and resolved into the same shape.
 */
export const Envelope = z.strictObject({
  ts: z.union([z.number().int().positive(), z.iso.datetime({ offset: true })]).optional(),
  seq: z.number().int().min(0).optional(),
  readings: z.record(z.string(), z.unknown()),
})

export interface TimeWindow {
  /** How far in the past a device time may lie, in ms. */
  lateMs: number
  /** How far in the future a device time may lie, in ms (clock skew). */
  earlyMs: number
}

export const DEFAULT_TIME_WINDOW: TimeWindow = { lateMs: 7 * 24 * 3600_000, earlyMs: 5 * 60_000 }

/** One thing wrong with a message, by path: quarantine entries, log records and API errors carry a list. */
export const Issue = z.object({ path: z.string(), message: z.string() })
export type Issue = z.infer<typeof Issue>

export type Decoded =
  | {
      outcome: 'accepted' | 'suspicious'
      /** Observation time, epoch ms (device time, or arrival time when the device sent none). */
      ts: number
      seq: number | undefined
      readings: Record<string, number | boolean | string>
      /** Fields outside their plausible band (empty when accepted). */
      suspect: string[]
    }
  | { outcome: 'rejected'; code: ErrorCode; reason: string; issues: Issue[] }

// fatal: malformed UTF-8 is refused rather than silently replaced with U+FFFD.
const utf8 = new TextDecoder('utf-8', { fatal: true })

const reject = (code: ErrorCode, reason: string, issues: Issue[] = []): Decoded => ({
  outcome: 'rejected',
  code,
  reason,
  issues,
})

const toIssues = (e: z.ZodError, prefix: string): Issue[] =>
  e.issues.slice(0, 20).map((i) => ({ path: [prefix, ...i.path.map(String)].filter(Boolean).join('.'), message: i.message }))

// Per device type: the fields with a plausible band and the unit lookup for SenML,
// worked out once rather than per reading.
interface TypeInfo {
  bands: [string, number, number][]
  unitsOf: UnitsOf
}
const typeInfos = new WeakMap<DeviceTypeDef, TypeInfo>()
function typeInfo(def: DeviceTypeDef): TypeInfo {
  let info = typeInfos.get(def)
  if (!info) {
    const bands: [string, number, number][] = []
    for (const [name, meta] of Object.entries(def.fields)) if (meta.plausible) bands.push([name, meta.plausible[0], meta.plausible[1]])
    const fields = def.fields as Record<string, { unit: string }>
    // Own keys only: a SenML name such as "constructor" or "__proto__" must not find Object.prototype.
    const unitsOf: UnitsOf = (f) => (Object.hasOwn(fields, f) ? fields[f]?.unit : undefined)
    info = { bands, unitsOf }
    typeInfos.set(def, info)
  }
  return info
}

/** Date's range (ECMA-262 time values): beyond it `toISOString` throws. */
const MAX_DATE_MS = 8.64e15

// A device time for a message people read; the raw number when Date cannot represent it.
const showTime = (ms: number): string => (ms >= -MAX_DATE_MS && ms <= MAX_DATE_MS ? new Date(ms).toISOString() : String(ms))

/**
 * Decodes and validates one telemetry payload for a device type. Bad data is a
 * result, never an exception.
 */
export function decodeTelemetry(payload: Uint8Array, def: DeviceTypeDef, now: number, window = DEFAULT_TIME_WINDOW): Decoded {
  if (payload.byteLength > MAX_TELEMETRY_BYTES) {
    return reject('PAYLOAD_TOO_LARGE', `payload is ${payload.byteLength} bytes; the limit is ${MAX_TELEMETRY_BYTES}`)
  }
  let json: unknown
  try {
    json = JSON.parse(utf8.decode(payload))
  } catch (e) {
    return reject('PAYLOAD_NOT_JSON', `payload is not JSON: ${(e as Error).message}`)
  }
  const info = typeInfo(def)
  let rawTs: number | string | undefined
  let seq: number | undefined
  let rawReadings: unknown
  if (Array.isArray(json)) {
    const pack = SenmlPack.safeParse(json)
    if (!pack.success) return reject('PAYLOAD_INVALID', 'payload is not a valid SenML pack', toIssues(pack.error, ''))
    const s = fromSenml(pack.data, info.unitsOf, now)
    if (!s.ok) return reject('PAYLOAD_INVALID', `SenML records do not match the ${def.type} readings`, s.issues)
    rawTs = s.ts
    rawReadings = s.readings
  } else {
    const env = Envelope.safeParse(json)
    if (!env.success) return reject('PAYLOAD_INVALID', 'envelope does not match { ts, seq, readings }', toIssues(env.error, ''))
    rawTs = env.data.ts
    seq = env.data.seq
    rawReadings = env.data.readings
  }
  const body = def.readings.safeParse(rawReadings)
  if (!body.success) {
    return reject('PAYLOAD_INVALID', `readings do not match the ${def.type} schema`, toIssues(body.error, 'readings'))
  }
  // Floor: a caller's fractional clock must not make an arrival time that is not whole milliseconds.
  const ts = rawTs === undefined ? Math.floor(now) : typeof rawTs === 'number' ? rawTs : Date.parse(rawTs)
  // The schema's ISO pattern and Date.parse are separate grammars; what only the schema reads is not a time.
  if (Number.isNaN(ts) && typeof rawTs === 'string') {
    return reject('PAYLOAD_INVALID', `ts ${JSON.stringify(rawTs.slice(0, 64))} is not a time this server can read`, [
      { path: 'ts', message: 'must be epoch milliseconds or an ISO 8601 time' },
    ])
  }
  // Negated so that NaN from a bad clock or window fails too. Date's range is checked apart from the window
  // because downstream prints ts with toISOString, and a broken clock must not move the window past it.
  if (!(Number.isInteger(ts) && Math.abs(ts) <= MAX_DATE_MS && ts >= now - window.lateMs && ts <= now + window.earlyMs)) {
    return reject('TIMESTAMP_OUT_OF_WINDOW', `reading time ${showTime(ts)} is outside the accepted window`, [
      { path: 'ts', message: `must lie between ${window.lateMs / 1000} s before and ${window.earlyMs / 1000} s after server time` },
    ])
  }
  const readings = body.data as Record<string, number | boolean | string>
  const suspect: string[] = []
  for (const [name, lo, hi] of info.bands) {
    const v = readings[name]
    if (typeof v === 'number' && (v < lo || v > hi)) suspect.push(name)
  }
  return { outcome: suspect.length ? 'suspicious' : 'accepted', ts, seq, readings, suspect }
}

/** A reading field as a number for alert rules: booleans count as 0/1, strings are not comparable. */
export function numericField(readings: Readonly<Record<string, unknown>>, field: string): number | undefined {
  const v = readings[field]
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined
  if (typeof v === 'boolean') return v ? 1 : 0
  return undefined
}
