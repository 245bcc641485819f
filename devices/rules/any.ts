import { z } from 'zod'
import { checkEscalation, Duration, Field, type RuleStepInput, type RuleStepResult, ruleBase, unchanged, usableTime } from './base.ts'
import { CountRule, CountState, initialCountState, stepCount } from './count.ts'
import { initialRateState, RateRule, RateState, stepRate } from './rate.ts'
import { initialThresholdState, stepThreshold, ThresholdRule, ThresholdState } from './threshold.ts'
import { initialTrendState, stepTrend, TrendRule, TrendState } from './trend.ts'
import { initialWindowState, stepWindow, WindowRule, WindowState } from './window.ts'

/** The kinds a combined rule may be made of: each judges one reading at a time or a window of them. */
const Part = z.discriminatedUnion('kind', [ThresholdRule, RateRule, TrendRule, WindowRule, CountRule])
type Part = z.infer<typeof Part>

/**
 * One alert from several conditions, e.g. a bin fire is over 60 °C or a rise over 15 °C between
 * readings (domain.md §5.1 defaults), and damp risk is any of Approved Document F's two windows or
 * sustained mould-growth humidity (§5.3). Raised when the first part is, cleared when all are.
 * Each part keeps its own state, so a part that is still high keeps the alert open.
 */
export const AnyRule = z
  .object({
    kind: z.literal('any'),
    ...ruleBase,
    /** Every part reads this field: one reading gives one value. */
    field: Field,
    of: z.array(Part).min(2).max(6),
    /**
     * The alert clears only once every part has been clear this long: damp that returns every
     * night is one alert for the home, not one a night (the 12-hour windows empty each afternoon).
     */
    clearForS: Duration.default(0),
  })
  .superRefine(checkEscalation)
  .superRefine((r, ctx) => {
    const ids = new Set(r.of.map((p) => p.id))
    if (ids.size !== r.of.length) ctx.addIssue({ code: 'custom', message: 'part ids must be unique', path: ['of'] })
    r.of.forEach((p, i) => {
      if (p.field !== r.field) ctx.addIssue({ code: 'custom', message: `every part reads ${r.field}`, path: ['of', i, 'field'] })
    })
  })
export type AnyRule = z.infer<typeof AnyRule>

export const AnyState = z.object({
  parts: z.record(z.string(), z.unknown()),
  active: z.boolean(),
  /** While active: since when every part has been clear (null while one is not). */
  quietSince: z.number().nullable().default(null),
})
export type AnyState = z.infer<typeof AnyState>

export const initialAnyState = (): AnyState => ({ parts: {}, active: false, quietSince: null })

type PartStep = (r: Part, s: unknown, i: RuleStepInput) => RuleStepResult<unknown>
const STEPS: Record<Part['kind'], { state: z.ZodType; initial: () => unknown; step: PartStep }> = {
  threshold: { state: ThresholdState, initial: initialThresholdState, step: stepThreshold as PartStep },
  rate: { state: RateState, initial: initialRateState, step: stepRate as PartStep },
  trend: { state: TrendState, initial: initialTrendState, step: stepTrend as PartStep },
  window: { state: WindowState, initial: initialWindowState, step: stepWindow as PartStep },
  count: { state: CountState, initial: initialCountState, step: stepCount as PartStep },
}

const partActive = (s: unknown): boolean => {
  if (typeof s !== 'object' || s === null) return false
  const o = s as { active?: unknown; gate?: { active?: unknown } }
  return o.active === true || o.gate?.active === true
}

/** value and detail come from the part that raised (or, on clearing, the last one to clear); detail names it. */
export function stepAny(rule: AnyRule, state: AnyState, input: RuleStepInput): RuleStepResult<AnyState> {
  if (!usableTime(input.t)) return unchanged(state)
  const parts: Record<string, unknown> = { ...state.parts }
  let lead: { part: Part; r: RuleStepResult<unknown> } | null = null
  let any = false
  for (const part of rule.of) {
    const k = STEPS[part.kind]
    // Saved parts were checked once, when the state was restored (restoreAnyState), not per reading.
    const saved = parts[part.id]
    const r = k.step(part, saved === undefined ? k.initial() : saved, input)
    parts[part.id] = r.state
    if (r.transition && (!lead || (r.transition === 'raised' && lead.r.transition !== 'raised'))) lead = { part, r }
    if (partActive(r.state)) any = true
  }
  const quietSince = state.active && !any ? (state.quietSince ?? input.t) : null
  const ends = state.active && !any && input.t - quietSince! >= rule.clearForS * 1000
  const active = any || (state.active && !ends)
  const next: AnyState = { parts, active, quietSince: active && !any ? quietSince : null }
  const transition = any && !state.active ? 'raised' : ends ? 'cleared' : null
  if (!lead || (lead.r.transition === 'cleared' && !transition)) return { state: next, transition }
  const detail = { ...lead.r.detail, [`part:${lead.part.id}`]: true }
  return { state: next, transition, detail, ...(lead.r.value !== undefined && { value: lead.r.value }) }
}

/** A saved state checked against the rule's parts: a part whose state does not fit its kind starts afresh. */
export function restoreAnyState(rule: AnyRule, saved: unknown): AnyState {
  const parsed = AnyState.safeParse(saved)
  if (!parsed.success) return initialAnyState()
  const parts: Record<string, unknown> = {}
  for (const part of rule.of) {
    const p = STEPS[part.kind].state.safeParse(parsed.data.parts[part.id])
    if (p.success) parts[part.id] = p.data
  }
  return { ...parsed.data, parts }
}
