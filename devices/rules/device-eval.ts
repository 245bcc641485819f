import { z } from 'zod'
import type { Transition } from '../alerts/evaluate.ts'
import { Field, meetsAll, PER_MS, PositiveDuration, type RuleDetail, TimeUnit, usable } from './base.ts'
import { type AnyRuleState, initialRuleState, isActive, type Rule, restoreRuleState, stepRule } from './rule.ts'

/**
 * A field worked out from the device's own previous reading, e.g. demand from a cumulative
 * register: Δregister over the real elapsed time (domain.md §3.5 item 21), so a catch-up after
 * missed reads is the true mean over the gap, not a spike, and a register that goes down (a
 * rollover or a replaced meter) gives nothing and starts again from there.
 */
export const DeriveSpec = z.strictObject({
  name: Field,
  from: Field,
  per: TimeUnit,
  /** Multiplies the rate: 0.001 turns Wh per hour into kW. */
  scale: z.number().positive().default(1),
  /** Readings closer than this give no rate (noise over nothing). */
  minIntervalS: PositiveDuration.default(60),
})
export type DeriveSpec = z.infer<typeof DeriveSpec>

/** Everything the engine keeps per device: saved with its checkpoint, as JSON. */
export interface DeviceRuleState {
  /** Newest reading time evaluated: a redelivered or late reading is stored but not evaluated. */
  lastTs: number | null
  /** Rule state by rule id, so adding, removing or reordering rules keeps the others. */
  rules: Record<string, unknown>
  /** Previous value of each derived field's source: [time, value]. */
  derived?: Record<string, [number, number]>
}

export const newDeviceRuleState = (): DeviceRuleState => ({ lastTs: null, rules: {} })

/**
 * A device's state as saved, checked against today's rules once (not per reading): a rule whose
 * saved state does not fit its kind starts afresh, and state of rules that are gone is dropped.
 */
export function restoreDeviceState(rules: readonly Rule[], saved: unknown): DeviceRuleState {
  const o = (typeof saved === 'object' && saved !== null ? saved : {}) as Partial<DeviceRuleState>
  const lastTs = typeof o.lastTs === 'number' && Number.isFinite(o.lastTs) ? o.lastTs : null
  const was = typeof o.rules === 'object' && o.rules !== null ? o.rules : {}
  const out: DeviceRuleState = { lastTs, rules: {} }
  for (const rule of rules) if (was[rule.id] !== undefined) out.rules[rule.id] = restoreRuleState(rule, was[rule.id])
  const derived = typeof o.derived === 'object' && o.derived !== null ? o.derived : null
  if (derived) {
    out.derived = {}
    for (const [k, v] of Object.entries(derived)) {
      if (Array.isArray(v) && v.length === 2 && v.every((n) => typeof n === 'number' && Number.isFinite(n))) out.derived[k] = [v[0], v[1]]
    }
  }
  return out
}

export interface RuleTransition {
  rule: Rule
  transition: Exclude<Transition, null>
  /** Reading (or tick) time, epoch ms. */
  t: number
  value: number
  detail?: RuleDetail | undefined
}

export interface EvalContext {
  /** The forecast rules' deadline, e.g. a bin's next scheduled collection after t. */
  before?: ((t: number) => number | null | undefined) | undefined
  /** The device's expected reporting interval, for silence rules. */
  intervalS?: number | undefined
  /** Values from elsewhere the rules may read, e.g. the site's outside temperature. */
  extra?: Record<string, number> | undefined
}

const asNumber = (v: unknown): number | undefined =>
  typeof v === 'number' ? (Number.isFinite(v) ? v : undefined) : typeof v === 'boolean' ? (v ? 1 : 0) : undefined

function derive(
  specs: readonly DeriveSpec[],
  state: DeviceRuleState,
  t: number,
  readings: Record<string, unknown>,
  out: Record<string, number>,
) {
  if (!state.derived) state.derived = {}
  const prev = state.derived
  for (const d of specs) {
    const v = asNumber(readings[d.from])
    if (v === undefined) continue
    const p = prev[d.name]
    if (p && t - p[0] < d.minIntervalS * 1000) continue
    prev[d.name] = [t, v]
    if (!p || t <= p[0] || v < p[1]) continue
    out[d.name] = (((v - p[1]) * PER_MS[d.per]) / (t - p[0])) * d.scale
  }
}

/**
 * Every rule of one device on one reading, in rule order. Mutates `state` (the caller passes its
 * working copy) and returns the transitions. The same function gives the engine its alerts and
 * the scenarios their ground truth, so the two cannot drift apart.
 */
export function evaluateReading(
  rules: readonly Rule[],
  derived: readonly DeriveSpec[] | undefined,
  state: DeviceRuleState,
  t: number,
  readings: Record<string, unknown>,
  ctx: EvalContext = {},
): RuleTransition[] {
  if (state.lastTs !== null && t <= state.lastTs) return []
  state.lastTs = t
  let fields: Record<string, unknown> = readings
  if ((derived && derived.length > 0) || ctx.extra) {
    const more: Record<string, number> = {}
    if (derived) derive(derived, state, t, readings, more)
    // The device's own value wins over one from elsewhere (a boiler's OpenTherm outside sensor over the site's).
    fields = { ...ctx.extra, ...readings, ...more }
  }
  const read = (f: string) => asNumber(fields[f])
  const out: RuleTransition[] = []
  for (const rule of rules) {
    let s = (state.rules[rule.id] ?? initialRuleState(rule)) as AnyRuleState
    if (!meetsAll(rule.when, read)) {
      // A pending run is broken; an open alert stays until the data clears it.
      if (rule.otherwise === 'reset' && !isActive(s)) state.rules[rule.id] = initialRuleState(rule)
      continue
    }
    const value = rule.kind === 'silence' ? 1 : read(rule.field)
    const before = rule.kind === 'forecast' && ctx.before ? (ctx.before(t) ?? undefined) : undefined
    const r = stepRule(rule, s, { t, value, before, intervalS: ctx.intervalS })
    s = r.state
    state.rules[rule.id] = s
    if (r.transition) out.push({ rule, transition: r.transition, t, value: r.value ?? (usable(value) ? value : 0), detail: r.detail })
  }
  return out
}

/** Kinds that change with time alone: a window slides, a count expires, a period ends, a device is silent. */
const TICKED = new Set<Rule['kind']>(['window', 'count', 'baseline', 'silence', 'any'])

/** A clock tick at device time t: lets an alert clear (or a silence raise) while the device is quiet. */
export function tickRules(rules: readonly Rule[], state: DeviceRuleState, t: number, ctx: EvalContext = {}): RuleTransition[] {
  if (state.lastTs !== null && t <= state.lastTs) return []
  const out: RuleTransition[] = []
  for (const rule of rules) {
    if (!TICKED.has(rule.kind)) continue
    const saved = state.rules[rule.id] as AnyRuleState | undefined
    if (saved === undefined && rule.kind !== 'silence') continue
    const r = stepRule(rule, saved ?? initialRuleState(rule), { t, intervalS: ctx.intervalS })
    state.rules[rule.id] = r.state
    if (r.transition) out.push({ rule, transition: r.transition, t, value: r.value ?? 0, detail: r.detail })
  }
  return out
}
