import { z } from 'zod'
import type { Issue } from '../reading.ts'

/** A reading value as our readings schemas take it. */
export type TtsReadingValue = number | boolean | string

/**
 * What a decoder makes of one uplink's `decoded_payload`: readings for our device type, which
 * ingest then validates as it validates MQTT telemetry; a reason it cannot (quarantined with the
 * uplink's identifiers); or `skip` for an uplink that carries no reading at all (a device's
 * information frame after a reset), which is counted and dropped. Never an exception.
 */
export type DecodeResult =
  | { ok: true; readings: Record<string, TtsReadingValue> }
  | { ok: false; reason: string; issues: Issue[] }
  | { ok: 'skip'; reason: string }

export interface TtsDecoder {
  id: string
  title: string
  /** Our device type it decodes for; null: any (the payload is already in that type's shape). */
  deviceType: string | null
  /** Per-mapping settings (a bin's depth); parsed when the mapping is made and again per uplink. */
  params: z.ZodType
  decode(payload: Readonly<Record<string, unknown>>, params: unknown): DecodeResult
}

export const fail = (reason: string, issues: Issue[] = []): DecodeResult => ({ ok: false, reason, issues })

/** A decoder whose params are parsed before its own function sees them. */
export function defineDecoder<S extends z.ZodType>(d: {
  id: string
  title: string
  deviceType: string | null
  params: S
  decode(payload: Readonly<Record<string, unknown>>, params: z.infer<S>): DecodeResult
}): TtsDecoder {
  return {
    ...d,
    decode(payload, raw) {
      const p = d.params.safeParse(raw ?? {})
      if (!p.success) {
        const issues = p.error.issues.slice(0, 20).map((i) => ({ path: ['params', ...i.path.map(String)].join('.'), message: i.message }))
        return fail(`the mapping's parameters for decoder ${d.id} are invalid`, issues)
      }
      return d.decode(payload, p.data)
    },
  }
}

/**
 * A number from a payload formatter's field: formatters write numbers, and some (Dragino's)
 * write them as strings such as "23.50". Anything else is undefined.
 */
export function numeric(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined
  if (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) return Number(v)
  return undefined
}

/** Reads a numeric field; when present but not a number, says so in `issues`. */
export function field(payload: Readonly<Record<string, unknown>>, name: string, issues: Issue[]): number | undefined {
  if (!Object.hasOwn(payload, name)) return undefined
  const n = numeric(payload[name])
  if (n === undefined)
    issues.push({ path: `decoded_payload.${name}`, message: `expected a number, got ${JSON.stringify(payload[name])?.slice(0, 40)}` })
  return n
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x))
const round = (x: number, places: number) => Math.round(x * 10 ** places) / 10 ** places

/**
 * An ultrasonic sensor measures the distance down to the waste, not how full the bin is: the
 * mapping says how deep the container is. Ours: `depthMm` is the distance from the sensor to
 * the bottom of the empty container; `fullMm` the distance at which it counts as full (the
 * sensor's blind zone or the headroom under the lid), 0 by default.
 */
export const BinGeometry = z
  .strictObject({
    depthMm: z.number().int().min(100).max(10_000).describe('distance from the sensor to the bottom of the empty container, mm'),
    fullMm: z.number().int().min(0).max(9_000).default(0).describe('distance at which the container counts as full, mm'),
  })
  .refine((g) => g.fullMm < g.depthMm, { path: ['fullMm'], message: 'fullMm must be less than depthMm' })
export type BinGeometry = z.infer<typeof BinGeometry>

/**
 * Fill level (parts per one, as our bin type's fillingLevel) from a distance in mm. A distance
 * past the bottom (an echo off the side, a lid open) reads as empty, one inside the blind zone
 * as full; 0 or less is no echo at all, which is not a reading.
 */
export function fillFromDistance(distanceMm: number, g: BinGeometry): number | null {
  if (!(distanceMm > 0)) return null
  return round(clamp01((g.depthMm - distanceMm) / (g.depthMm - g.fullMm)), 3)
}
