import { z } from 'zod'
import type { DeviceTypeDef } from './catalog/define.ts'
import type { ErrorCode } from './errors.ts'
import { fromSenml, SenmlPack } from './senml.ts'

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

export interface Issue {
  path: string
  message: string
}

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

// The fields with a plausible band, per device type, worked out once rather than per reading.
const bands = new WeakMap<DeviceTypeDef, [string, number, number][]>()
function plausibleBands(def: DeviceTypeDef): [string, number, number][] {
  let b = bands.get(def)
  if (!b) {
    b = []
    for (const [name, meta] of Object.entries(def.fields)) if (meta.plausible) b.push([name, meta.plausible[0], meta.plausible[1]])
    bands.set(def, b)
  }
  return b
}

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
  if (Array.isArray(json)) {
    const pack = SenmlPack.safeParse(json)
    if (!pack.success) return reject('PAYLOAD_INVALID', 'payload is not a valid SenML pack', toIssues(pack.error, ''))
    const s = fromSenml(pack.data, (f) => (def.fields as Record<string, { unit: string } | undefined>)[f]?.unit, now)
    if (!s.ok) return reject('PAYLOAD_INVALID', `SenML records do not match the ${def.type} readings`, s.issues)
    json = { ...(s.ts === undefined ? {} : { ts: s.ts }), readings: s.readings }
  }
  const env = Envelope.safeParse(json)
  if (!env.success) return reject('PAYLOAD_INVALID', 'envelope does not match { ts, seq, readings }', toIssues(env.error, ''))
  const body = def.readings.safeParse(env.data.readings)
  if (!body.success) {
    return reject('PAYLOAD_INVALID', `readings do not match the ${def.type} schema`, toIssues(body.error, 'readings'))
  }
  const rawTs = env.data.ts
  const ts = rawTs === undefined ? now : typeof rawTs === 'number' ? rawTs : Date.parse(rawTs)
  if (ts < now - window.lateMs || ts > now + window.earlyMs) {
    return reject('TIMESTAMP_OUT_OF_WINDOW', `reading time ${new Date(ts).toISOString()} is outside the accepted window`, [
      { path: 'ts', message: `must lie between ${window.lateMs / 1000} s before and ${window.earlyMs / 1000} s after server time` },
    ])
  }
  const readings = body.data as Record<string, number | boolean | string>
  const suspect: string[] = []
  for (const [name, lo, hi] of plausibleBands(def)) {
    const v = readings[name]
    if (typeof v === 'number' && (v < lo || v > hi)) suspect.push(name)
  }
  return { outcome: suspect.length ? 'suspicious' : 'accepted', ts, seq: env.data.seq, readings, suspect }
}

/** A reading field as a number for alert rules: booleans count as 0/1, strings are not comparable. */
export function numericField(readings: Record<string, unknown>, field: string): number | undefined {
  const v = readings[field]
  if (typeof v === 'number') return v
  if (typeof v === 'boolean') return v ? 1 : 0
  return undefined
}
