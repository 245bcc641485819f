import { z } from 'zod'
import {
  checkEscalation,
  Duration,
  Field,
  PER_MS,
  PositiveDuration,
  type RuleStepInput,
  type RuleStepResult,
  ruleBase,
  TimeUnit,
  unchanged,
  usable,
  usableTime,
} from './base.ts'
import { checkBand, GateState, gate, hysteresis, initialGate } from './gate.ts'

/**
 * Change between consecutive readings, raw (`per: 'reading'`, e.g. a bin temperature rising
 * more than 15 °C between readings, domain.md §5.1 defaults) or per unit of time.
 */
export const RateRule = z
  .object({
    kind: z.literal('rate'),
    ...ruleBase,
    field: Field,
    per: z.union([z.literal('reading'), TimeUnit]),
    ...hysteresis,
    /** Readings further apart than this give no rate: a 15 °C rise over three silent days is no fire. */
    maxGapS: PositiveDuration.optional(),
    /**
     * A reading closer than this to the previous one used is skipped as a reference, so that a
     * per-time rate over a few seconds is not sensor noise divided by almost nothing.
     */
    minIntervalS: Duration.default(0),
  })
  .superRefine(checkBand)
  .superRefine(checkEscalation)
export type RateRule = z.infer<typeof RateRule>

export const RateState = z.object({
  /** The reading the next change is measured from. */
  ref: z.object({ t: z.number(), v: z.number() }).nullable(),
  gate: GateState,
})
export type RateState = z.infer<typeof RateState>

export const initialRateState = (): RateState => ({ ref: null, gate: initialGate() })

/** value: the change (per reading or per `per`). */
export function stepRate(rule: RateRule, state: RateState, input: RuleStepInput): RuleStepResult<RateState> {
  const { t, value } = input
  if (!usableTime(t) || !usable(value)) return unchanged(state)
  const ref = state.ref
  if (ref === null) return { state: { ...state, ref: { t, v: value } }, transition: null }
  if (t <= ref.t) return unchanged(state)
  const dt = t - ref.t
  if (dt < rule.minIntervalS * 1000) return unchanged(state)
  const here = { t, v: value }
  const maxGapMs = rule.maxGapS === undefined ? undefined : rule.maxGapS * 1000
  if (maxGapMs !== undefined && dt > maxGapMs) return { state: { ...state, ref: here }, transition: null }
  const change = value - ref.v
  const rate = rule.per === 'reading' ? change : (change * PER_MS[rule.per]) / dt
  const g = gate(rule, state.gate, t, rate, maxGapMs)
  return { state: { ref: here, gate: g.state }, transition: g.transition, value: rate, detail: { change, intervalS: dt / 1000 } }
}
