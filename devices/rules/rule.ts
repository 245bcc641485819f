import { z } from 'zod'
import { AnyRule, AnyState, initialAnyState, restoreAnyState, stepAny } from './any.ts'
import type { RuleStepInput, RuleStepResult } from './base.ts'
import { BaselineRule, BaselineState, initialBaselineState, stepBaseline } from './baseline.ts'
import { CountRule, CountState, initialCountState, stepCount } from './count.ts'
import { ForecastRule, ForecastState, initialForecastState, stepForecast } from './forecast.ts'
import { initialRateState, RateRule, RateState, stepRate } from './rate.ts'
import { initialSilenceState, SilenceRule, SilenceState, stepSilence } from './silence.ts'
import { initialThresholdState, stepThreshold, ThresholdRule, ThresholdState } from './threshold.ts'
import { initialTrendState, stepTrend, TrendRule, TrendState } from './trend.ts'
import { initialWindowState, stepWindow, WindowRule, WindowState } from './window.ts'

/** Rules are data: one schema validates catalogue entries, API overrides and saved rules alike. */
export const Rule = z.discriminatedUnion('kind', [
  ThresholdRule,
  RateRule,
  TrendRule,
  WindowRule,
  CountRule,
  ForecastRule,
  BaselineRule,
  SilenceRule,
  AnyRule,
])
export type Rule = z.infer<typeof Rule>
/** A rule as written, before defaults are filled in. */
export type RuleSpec = z.input<typeof Rule>
export type RuleKind = Rule['kind']

const KINDS = {
  threshold: { state: ThresholdState, initial: initialThresholdState, step: stepThreshold },
  rate: { state: RateState, initial: initialRateState, step: stepRate },
  trend: { state: TrendState, initial: initialTrendState, step: stepTrend },
  window: { state: WindowState, initial: initialWindowState, step: stepWindow },
  count: { state: CountState, initial: initialCountState, step: stepCount },
  forecast: { state: ForecastState, initial: initialForecastState, step: stepForecast },
  baseline: { state: BaselineState, initial: initialBaselineState, step: stepBaseline },
  silence: { state: SilenceState, initial: initialSilenceState, step: stepSilence },
  any: { state: AnyState, initial: initialAnyState, step: stepAny },
} as const

export type RuleStates = { [K in RuleKind]: z.infer<(typeof KINDS)[K]['state']> }
export type AnyRuleState = RuleStates[RuleKind]
type RuleOf<K extends RuleKind> = Extract<Rule, { kind: K }>

export const RULE_KINDS = Object.keys(KINDS) as RuleKind[]

export function initialRuleState<K extends RuleKind>(rule: RuleOf<K> | Rule): RuleStates[K] {
  return KINDS[rule.kind].initial() as RuleStates[K]
}

/**
 * State saved with the engine checkpoint, read back. Anything that does not fit the rule's kind
 * (the rule changed kind, or the state predates this code) starts fresh rather than failing
 * the engine: a rule re-learns its window, it does not stop evaluating.
 */
export function restoreRuleState<K extends RuleKind>(rule: RuleOf<K> | Rule, saved: unknown): RuleStates[K] {
  if (rule.kind === 'any') return restoreAnyState(rule as AnyRule, saved) as RuleStates[K]
  const parsed = KINDS[rule.kind].state.safeParse(saved)
  return (parsed.success ? parsed.data : KINDS[rule.kind].initial()) as RuleStates[K]
}

/** One step of any rule. The state must be the one this rule's kind produced (see restoreRuleState). */
export function stepRule<K extends RuleKind>(
  rule: RuleOf<K> | Rule,
  state: RuleStates[K] | AnyRuleState,
  input: RuleStepInput,
): RuleStepResult<RuleStates[K]> {
  // The union is closed over kind, so each pairing is sound; TypeScript cannot correlate them itself.
  const step = KINDS[rule.kind].step as (r: Rule, s: AnyRuleState, i: RuleStepInput) => RuleStepResult<AnyRuleState>
  return step(rule, state, input) as RuleStepResult<RuleStates[K]>
}

/** Whether a rule's state has its alert open (every kind keeps it as `active`, or in its gate). */
export function isActive(state: unknown): boolean {
  if (typeof state !== 'object' || state === null) return false
  const o = state as { active?: unknown; gate?: { active?: unknown } }
  return o.active === true || o.gate?.active === true
}
