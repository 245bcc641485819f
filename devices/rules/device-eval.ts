import { z } from 'zod'
import type { Transition } from '../alerts/evaluate.ts'
import {
  DEFAULT_COLLECTION_DETECTION,
  type DetectionState,
  DetectionState as DetectionStateSchema,
  initialDetectionState,
  stepCollection,
} from '../collections/detect.ts'
import { type CollectionSchedule, londonDayBounds, nextCollection, previousCollection } from '../collections/schedule.ts'
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
  /** Bins: collection detection, when the last collection was, and since when we have been watching. */
  collection?: { detect: DetectionState; lastAt: number | null; from: number }
}

/** How a type's readings show a collection (bins): the level that drops, and the tilt blip. */
export interface CollectionTraits {
  level: string
  tilt?: string
}

/** What a device type adds to its rules' inputs. DeviceTypeDef has these. */
export interface TypeTraits {
  derive?: readonly DeriveSpec[] | undefined
  collections?: CollectionTraits | undefined
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
  if (o.collection && typeof o.collection === 'object') {
    const detect = DetectionStateSchema.safeParse(o.collection.detect)
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null)
    const from = num(o.collection.from)
    if (detect.success && from !== null) out.collection = { detect: detect.data, lastAt: num(o.collection.lastAt), from }
  }
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
  /** A bin's collection schedule (its own or its round's): the forecast deadline and the missed-collection check. */
  schedule?: CollectionSchedule | null | undefined
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
 * Collections seen in a bin's level (devices/collections/detect.ts) and, with a schedule, two
 * fields for its rules: `uncollectedFill`, the fill level once a scheduled collection day has
 * ended with no collection seen since that day began (else 0; bin-not-collected), and the next
 * scheduled collection, returned as the forecast deadline (bin-full-before-collection).
 */
function collections(
  c: CollectionTraits,
  state: DeviceRuleState,
  t: number,
  readings: Record<string, unknown>,
  schedule: CollectionSchedule | null | undefined,
  out: Record<string, number>,
): number | undefined {
  const col = state.collection ?? { detect: initialDetectionState(), lastAt: null, from: t }
  const level = asNumber(readings[c.level])
  if (level !== undefined) {
    const tilt = c.tilt === undefined ? undefined : readings[c.tilt] === true
    const step = stepCollection(DEFAULT_COLLECTION_DETECTION, col.detect, { t, level, tilted: tilt })
    state.collection = { detect: step.state, lastAt: step.collection ? step.collection.at : col.lastAt, from: col.from }
  }
  if (!schedule || level === undefined) return undefined
  const due = previousCollection(schedule, t)
  const [dayStart, dayEnd] = londonDayBounds(due)
  const lastAt = state.collection?.lastAt ?? null
  // A scheduled day before we first heard from the bin is not one it missed.
  const watched = state.collection !== undefined && dayStart >= state.collection.from
  out.uncollectedFill = watched && t >= dayEnd && (lastAt === null || lastAt < dayStart) ? level : 0
  return nextCollection(schedule, t)
}

/**
 * Every rule of one device on one reading, in rule order. Mutates `state` (the caller passes its
 * working copy) and returns the transitions. The same function gives the engine its alerts and
 * the scenarios their ground truth, so the two cannot drift apart.
 */
export function evaluateReading(
  rules: readonly Rule[],
  traits: TypeTraits | undefined,
  state: DeviceRuleState,
  t: number,
  readings: Record<string, unknown>,
  ctx: EvalContext = {},
): RuleTransition[] {
  if (state.lastTs !== null && t <= state.lastTs) return []
  state.lastTs = t
  let fields: Record<string, unknown> = readings
  const derived = traits?.derive
  let before: number | undefined
  if ((derived && derived.length > 0) || ctx.extra || traits?.collections) {
    const more: Record<string, number> = {}
    if (derived) derive(derived, state, t, readings, more)
    if (traits?.collections) before = collections(traits.collections, state, t, readings, ctx.schedule, more)
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
    const r = stepRule(rule, s, { t, value, before: rule.kind === 'forecast' ? before : undefined, intervalS: ctx.intervalS })
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
