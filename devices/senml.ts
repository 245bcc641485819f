import { z } from 'zod'

/** One SenML record (RFC 8428), JSON representation; base fields may appear on any record. */
export const SenmlRecord = z.strictObject({
  bn: z.string().max(256).optional(),
  bt: z.number().optional(),
  bu: z.string().max(32).optional(),
  bver: z.number().int().optional(),
  n: z.string().max(256).optional(),
  u: z.string().max(32).optional(),
  v: z.number().optional(),
  vb: z.boolean().optional(),
  vs: z.string().max(256).optional(),
  t: z.number().optional(),
})
export const SenmlPack = z.array(SenmlRecord).min(1).max(64)
export type SenmlPack = z.infer<typeof SenmlPack>

/** SenML units per reading field (IANA SenML registry names; "/" is a ratio). */
export type UnitsOf = (field: string) => string | undefined

export type SenmlResult =
  | { ok: true; ts: number | undefined; readings: Record<string, unknown> }
  | { ok: false; issues: { path: string; message: string }[] }

/**
 * Resolves a SenML pack into the native envelope's shape: the field is the last
 * `:`- or `/`-separated part of the resolved name (bn + n), time is bt + t in
 * seconds. A stated unit must be the field's unit. Time 0 is "now"; other times
 * below 2^28 count from now, as RFC 8428 says (negative ones lie in the past).
 * `ts` is whole epoch ms, undefined for "now"; it is not checked against any
 * window here. Times that overflow and non-finite values are issues, not results.
 */
export function fromSenml(pack: SenmlPack, unitsOf: UnitsOf, now: number): SenmlResult {
  const readings: Record<string, unknown> = {}
  const issues: { path: string; message: string }[] = []
  let bn = ''
  let bt = 0
  let bu: string | undefined
  let ts: number | undefined
  for (const [i, r] of pack.entries()) {
    if (r.bn !== undefined) bn = r.bn
    if (r.bt !== undefined) bt = r.bt
    if (r.bu !== undefined) bu = r.bu
    const name = `${bn}${r.n ?? ''}`
    const field = name.slice(Math.max(name.lastIndexOf(':'), name.lastIndexOf('/')) + 1)
    // "__proto__" would set the prototype of `readings` instead of a field, whatever unitsOf says.
    const unit = field === '__proto__' ? undefined : unitsOf(field)
    if (unit === undefined) {
      issues.push({ path: `${i}.n`, message: `unknown reading "${field}"` })
      continue
    }
    const u = r.u ?? bu
    if (u !== undefined && u !== unit && unit !== 'bool' && unit !== 'code') {
      issues.push({ path: `${i}.u`, message: `"${field}" is in ${unit}, not ${u}` })
      continue
    }
    const value = r.v ?? r.vb ?? r.vs
    if (value === undefined) {
      issues.push({ path: `${i}`, message: 'a record needs v, vb or vs' })
      continue
    }
    // The schema already refuses these; a caller that skipped it must not get NaN or Infinity as a reading.
    if (typeof value === 'number' && !Number.isFinite(value)) {
      issues.push({ path: `${i}.v`, message: 'v must be a finite number' })
      continue
    }
    readings[field] = value
    if (r.t !== undefined || r.bt !== undefined || i === 0) {
      const t = bt + (r.t ?? 0)
      // Two finite seconds values can still sum, or scale to ms, past Number.MAX_VALUE.
      const ms = t === 0 ? 0 : Math.round(t < 2 ** 28 ? now + t * 1000 : t * 1000)
      if (!Number.isFinite(ms)) {
        const at = r.t === undefined ? 'bt' : 't'
        issues.push({ path: `${i}.${at}`, message: `time ${bt} + ${r.t ?? 0} s is beyond any representable time` })
      }
      ts = t === 0 ? undefined : ms
    }
  }
  if (issues.length) return { ok: false, issues }
  return { ok: true, ts, readings }
}
