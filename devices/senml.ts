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
 * seconds. A stated unit must be the field's unit. Relative times (< 2^28) count
 * from now, as RFC 8428 says.
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
    const field = name.split(/[:/]/).pop() ?? ''
    const unit = unitsOf(field)
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
    readings[field] = value
    const t = bt + (r.t ?? 0)
    if (r.t !== undefined || r.bt !== undefined || i === 0) ts = (t !== 0 && Math.abs(t) < 2 ** 28 ? now / 1000 + t : t) * 1000
  }
  if (issues.length) return { ok: false, issues }
  return { ok: true, ts: ts && ts > 0 ? Math.round(ts) : undefined, readings }
}
