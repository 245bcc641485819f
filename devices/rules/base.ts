import { z } from 'zod'
import type { Transition } from '../alerts/evaluate.ts'
import { Severity } from '../alerts/rule.ts'
import { numericField } from '../reading.ts'

/** Same id rule as today's alert rules: ids are an interface (API, dashboards, tests). */
export const RuleId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/)

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 }
export const severityRank = (s: Severity) => SEVERITY_RANK[s]

/** Severity up after a delay while nobody has acknowledged the alert (domain.md §3.2 item 6). */
export const RuleEscalation = z.object({
  afterS: z
    .number()
    .positive()
    .max(90 * 86_400),
  to: Severity,
})
export type RuleEscalation = z.infer<typeof RuleEscalation>

/**
 * A condition on another field of the same reading (booleans read as 0/1), e.g. "burner off and
 * flow below 40 °C" for pressure read cold (domain.md §5.2: pressure rises ~0.5 bar when hot).
 */
export const Condition = z.strictObject({
  field: z.string().min(1).max(64),
  op: z.enum(['lt', 'le', 'gt', 'ge', 'eq', 'ne']),
  value: z.number(),
})
export type Condition = z.infer<typeof Condition>

/** Fields every rule kind has. */
export const ruleBase = {
  id: RuleId,
  title: z.string().min(1).max(120),
  severity: Severity,
  // Shown to residents, crews and officers: say what is happening and what to do, never blame.
  text: z.string().min(1).max(1000),
  escalation: RuleEscalation.optional(),
  /** Only readings meeting every condition are evaluated; a reading missing a field does not meet it. */
  when: z.array(Condition).max(8).optional(),
  /**
   * What a reading that does not meet `when` does: 'skip' leaves the rule as it is (pressure read
   * hot says nothing about cold pressure); 'reset' also breaks a pending run (no heat is only
   * "for 60 minutes" while heating is demanded all along). An open alert is never cleared by it.
   */
  otherwise: z.enum(['skip', 'reset']).default('skip'),
}

const holds = (c: Condition, v: number) => {
  switch (c.op) {
    case 'lt':
      return v < c.value
    case 'le':
      return v <= c.value
    case 'gt':
      return v > c.value
    case 'ge':
      return v >= c.value
    case 'eq':
      return v === c.value
    case 'ne':
      return v !== c.value
  }
}

/** Whether a reading's fields meet every condition (a missing field does not). No callback: this runs per reading. */
export function meetsAll(when: readonly Condition[] | undefined, fields: Readonly<Record<string, unknown>>): boolean {
  if (!when) return true
  for (const c of when) {
    const v = numericField(fields, c.field)
    if (v === undefined || !holds(c, v)) return false
  }
  return true
}

/** Field a value-driven rule reads from a reading (booleans count as 0/1, as today). */
export const Field = z.string().min(1).max(64)
export const Direction = z.enum(['above', 'below'])
export type Direction = z.infer<typeof Direction>

export const Duration = z
  .number()
  .nonnegative()
  .max(366 * 86_400)
export const PositiveDuration = z
  .number()
  .positive()
  .max(366 * 86_400)

export const PER_MS = { second: 1_000, minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const
export const TimeUnit = z.enum(['second', 'minute', 'hour', 'day'])
export type TimeUnit = z.infer<typeof TimeUnit>

/** An escalation must raise the severity, or it is a typo rather than a policy. */
export function checkEscalation(r: { severity: Severity; escalation?: RuleEscalation | undefined }, ctx: z.RefinementCtx) {
  if (r.escalation && severityRank(r.escalation.to) <= severityRank(r.severity)) {
    ctx.addIssue({ code: 'custom', message: 'escalation must raise the severity', path: ['escalation', 'to'] })
  }
}

/**
 * Values beyond this are treated as missing. No telemetry field comes near it, and it keeps
 * running sums finite, so state always survives JSON (which turns Infinity into null).
 */
export const RULE_MAX_ABS = 1e12

export const usable = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v) && Math.abs(v) <= RULE_MAX_ABS
export const meets = (direction: Direction, v: number, level: number) => (direction === 'above' ? v >= level : v <= level)

/** What a step is given: explicit time, and a value when the reading had the field. */
export interface RuleStepInput {
  /** Reading time (or, with no value, the time of a clock tick), epoch ms. */
  t: number
  value?: number | undefined
  /** forecast: the deadline (epoch ms) the level must not be reached before, e.g. the next collection. */
  before?: number | undefined
  /** silence: the device's expected reporting interval when the rule does not override it. */
  intervalS?: number | undefined
}

export type RuleDetail = Record<string, number | boolean | null>

export interface RuleStepResult<S> {
  state: S
  transition: Transition
  /** The quantity the rule compares, when it could be computed (see each kind). */
  value?: number
  detail?: RuleDetail
}

export const unchanged = <S>(state: S): RuleStepResult<S> => ({ state, transition: null })

/** Time must be a finite epoch: anything else is not an input we can place. */
export const usableTime = (t: number) => Number.isFinite(t) && Math.abs(t) <= 8.64e15
