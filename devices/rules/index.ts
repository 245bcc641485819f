export { AnyRule, AnyState, initialAnyState, stepAny } from './any.ts'
export {
  Condition,
  meetsAll,
  RULE_MAX_ABS,
  type RuleDetail,
  RuleEscalation,
  RuleId,
  type RuleStepInput,
  type RuleStepResult,
} from './base.ts'
export { BaselineRule, BaselineState, initialBaselineState, stepBaseline } from './baseline.ts'
export { CountRule, CountState, initialCountState, stepCount } from './count.ts'
export {
  DeriveSpec,
  type DeviceRuleState,
  type EvalContext,
  evaluateReading,
  newDeviceRuleState,
  type RuleTransition,
  restoreDeviceState,
  retireRules,
  tickRules,
} from './device-eval.ts'
export { escalatesAt, severityAt } from './escalation.ts'
export {
  FORECAST_MAX_POINTS,
  ForecastOutlook,
  ForecastRule,
  ForecastState,
  forecastOutlook,
  initialForecastState,
  stepForecast,
} from './forecast.ts'
export {
  type AppliedRules,
  applyOverrides,
  checkOverride,
  type DeviceOverrides,
  type EffectiveRule,
  effectiveRule,
  type OverrideCheck,
  OverrideParams,
  OverrideScope,
  OverrideValue,
  type RejectedOverride,
  RuleOverride,
  RuleOverrideHistoryEntry,
  type RuleOverrideInput,
  StoredRuleOverride,
} from './overrides.ts'
export { initialRateState, RateRule, RateState, stepRate } from './rate.ts'
export {
  type AnyRuleState,
  initialRuleState,
  isActive,
  RULE_KINDS,
  Rule,
  type RuleKind,
  type RuleSpec,
  type RuleStates,
  restoreRuleState,
  stepRule,
} from './rule.ts'
export { initialSilenceState, SilenceRule, SilenceState, stepSilence } from './silence.ts'
export { initialThresholdState, stepThreshold, ThresholdRule, ThresholdState } from './threshold.ts'
export { initialTrendState, stepTrend, TREND_BUCKETS, TrendRule, TrendState } from './trend.ts'
export { initialWindowState, stepWindow, WINDOW_MAX_SPANS, WindowRule, WindowState } from './window.ts'
