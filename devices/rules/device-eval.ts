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
import { numericField } from '../reading.ts'
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
    const v = numericField(readings, d.from)
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
): { before: number | undefined; collected: boolean } {
  const col = state.collection ?? { detect: initialDetectionState(), lastAt: null, from: t }
  const level = numericField(readings, c.level)
  let collected = false
  if (level !== undefined) {
    // A reading without the tilt field (a sensor that has none) leaves the tilt unknown, not upright.
    const tv = c.tilt === undefined ? undefined : readings[c.tilt]
    const tilt = typeof tv === 'boolean' ? tv : undefined
    const step = stepCollection(DEFAULT_COLLECTION_DETECTION, col.detect, { t, level, tilted: tilt })
    collected = step.collection !== null
    state.collection = { detect: step.state, lastAt: step.collection ? step.collection.at : col.lastAt, from: col.from }
  }
  if (!schedule || level === undefined) return { before: undefined, collected }
  const when = scheduleAt(schedule, t)
  const lastAt = state.collection?.lastAt ?? null
  // The newest scheduled day that has ended: it stays the one judged until the bin is emptied, so the
  // alert does not clear when the next collection time merely comes round. A day before we first
  // heard from the bin is not one it missed.
  const watched = state.collection !== undefined && when.endedDayStart >= state.collection.from
  out.uncollectedFill = watched && (lastAt === null || lastAt < when.endedDayStart) ? level : 0
  return { before: when.next, collected }
}

interface ScheduleAt {
  /** Valid for t in [from, until). */
  from: number
  until: number
  next: number
  endedDayStart: number
}
// Per schedule object (a round's is shared by its bins): the answers change only at a collection time
// or a London midnight, so most readings reuse them instead of working out London time again.
const scheduleCache = new WeakMap<CollectionSchedule, ScheduleAt>()

function scheduleAt(schedule: CollectionSchedule, t: number): ScheduleAt {
  const hit = scheduleCache.get(schedule)
  if (hit && t >= hit.from && t < hit.until) return hit
  const next = nextCollection(schedule, t)
  const prev = previousCollection(schedule, t)
  const [prevStart, prevEnd] = londonDayBounds(prev)
  let endedDayStart = prevStart
  let from = prevEnd
  let until = next
  if (t < prevEnd) {
    // Today's collection day has not ended: the one judged is the scheduled day before it.
    endedDayStart = londonDayBounds(previousCollection(schedule, prevStart - 1))[0]
    from = prev
    until = Math.min(next, prevEnd)
  }
  const at: ScheduleAt = { from: Math.min(from, t), until, next, endedDayStart }
  scheduleCache.set(schedule, at)
  return at
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
  let collected = false
  if ((derived && derived.length > 0) || ctx.extra || traits?.collections) {
    const more: Record<string, number> = {}
    if (derived) derive(derived, state, t, readings, more)
    if (traits?.collections) ({ before, collected } = collections(traits.collections, state, t, readings, ctx.schedule, more))
    // The device's own value wins over one from elsewhere (a boiler's OpenTherm outside sensor over the site's).
    // Merged only when there is something to add: most readings are read as they came.
    for (const _ in more) {
      fields = { ...ctx.extra, ...readings, ...more }
      break
    }
    if (fields === readings && ctx.extra) fields = { ...ctx.extra, ...readings }
  }
  const out: RuleTransition[] = []
  for (const rule of rules) {
    let s = (state.rules[rule.id] ?? initialRuleState(rule)) as AnyRuleState
    if (collected && rule.kind === 'forecast' && rule.field === traits?.collections?.level) {
      // A collection starts the fill history again (the rate is per fill cycle), and ends a forecast built on the old one.
      if (isActive(s)) out.push({ rule, transition: 'cleared', t, value: 0 })
      s = initialRuleState(rule) as AnyRuleState
      state.rules[rule.id] = s
    }
    const gated = !meetsAll(rule.when, fields)
    if (gated) {
      // 'skip': the reading says nothing about this rule. 'reset': a pending run is broken, and an open
      // alert may still be cleared by the value (a boiler heating again clears no-heat, even when it is mild).
      if (rule.otherwise === 'skip') continue
      if (!isActive(s)) {
        state.rules[rule.id] = initialRuleState(rule)
        continue
      }
    }
    const value = rule.kind === 'silence' ? 1 : numericField(fields, rule.field)
    // The collection deadline is for the level that collections empty (fill), not for every forecast (a battery's).
    const deadline = rule.kind === 'forecast' && rule.field === traits?.collections?.level ? before : undefined
    const r = stepRule(rule, s, { t, value, before: deadline, intervalS: ctx.intervalS })
    if (gated && r.transition !== 'cleared') continue
    s = r.state
    state.rules[rule.id] = s
    if (r.transition) out.push({ rule, transition: r.transition, t, value: r.value ?? (usable(value) ? value : 0), detail: r.detail })
  }
  return out
}

/**
 * Rules no longer among the device's rules (switched off by an override, or gone from the
 * catalogue): their state goes, and the ids of those with an open alert are returned, so the
 * caller ends those alerts rather than leaving them open for good.
 */
export function retireRules(rules: readonly Rule[], state: DeviceRuleState): string[] {
  const ids = Object.keys(state.rules)
  if (ids.length <= rules.length && ids.every((id, i) => rules[i]?.id === id)) return []
  const ended: string[] = []
  for (const id of ids) {
    if (rules.some((r) => r.id === id)) continue
    if (isActive(state.rules[id])) ended.push(id)
    delete state.rules[id]
  }
  return ended
}

/** Kinds that change with time alone: a window slides, a count expires, a period ends, a device is silent. */
const TICKED = new Set<Rule['kind']>(['window', 'count', 'baseline', 'silence', 'any'])

/**
 * A clock tick at device time t: lets an alert clear (or a silence raise) while the device is quiet.
 * A tick is kept only for a rule with an open alert (it is on its way to clearing) or one it
 * changes: otherwise the state stays as the last reading left it, so a backlog of readings the
 * device sends after an outage is still evaluated in full (a tick would have moved the rules'
 * clocks past them), and quiet devices' state is not rewritten on every tick.
 */
export function tickRules(rules: readonly Rule[], state: DeviceRuleState, t: number, ctx: EvalContext = {}): RuleTransition[] {
  if (state.lastTs !== null && t <= state.lastTs) return []
  const out: RuleTransition[] = []
  for (const rule of rules) {
    if (!TICKED.has(rule.kind)) continue
    const saved = state.rules[rule.id] as AnyRuleState | undefined
    if (saved === undefined && rule.kind !== 'silence') continue
    const r = stepRule(rule, saved ?? initialRuleState(rule), { t, intervalS: ctx.intervalS })
    if (!r.transition && !isActive(saved)) continue
    state.rules[rule.id] = r.state
    if (r.transition) out.push({ rule, transition: r.transition, t, value: r.value ?? 0, detail: r.detail })
  }
  return out
}
