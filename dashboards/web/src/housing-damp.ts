import { type AnyRule, type AnyRuleState, initialRuleState, isActive, type Rule, stepRule } from '#devices'
import { DAMP_RULE } from './housing-words.ts'

/** A stretch of time in which at least one of the damp rule's conditions held, and which ones. */
export interface DampSpan {
  /** Epoch ms. */
  from: number
  to: number
  reasons: string[]
}

/** The damp and mould rule the alert engine runs for this device (with its overrides), if it is switched on. */
export function dampRuleOf(rules: readonly Rule[]): AnyRule | null {
  const r = rules.find((x) => x.id === DAMP_RULE)
  return r?.kind === 'any' ? r : null
}

/**
 * Where the damp rule's conditions held over a series of humidity readings (RH over 70 % for
 * more than 2 h in 12 h, over 90 % for more than 1 h in 12 h, sustained over 80 %). Each
 * condition is stepped through the alert engine's own rule code, so the shading means exactly
 * what the alert means; unlike the alert, a span ends as soon as no condition holds (the alert
 * itself waits for two dry days before it clears). Readings before the window are not seen, so
 * the first hours of a chart can only under-shade.
 */
export function dampSpans(rule: AnyRule, times: readonly number[], values: readonly (number | null | undefined)[]): DampSpan[] {
  const parts = rule.of.map((p) => ({ p, state: initialRuleState(p) as AnyRuleState }))
  const spans: DampSpan[] = []
  let open: DampSpan | null = null
  for (let i = 0; i < times.length; i++) {
    const t = times[i]!
    const v = values[i]
    if (v === null || v === undefined || !Number.isFinite(v)) continue
    const on: string[] = []
    for (const part of parts) {
      part.state = stepRule(part.p, part.state, { t, value: v }).state
      if (isActive(part.state)) on.push(part.p.title)
    }
    if (on.length > 0) {
      if (!open) {
        open = { from: t, to: t, reasons: [] }
        spans.push(open)
      }
      open.to = t
      for (const r of on) if (!open.reasons.includes(r)) open.reasons.push(r)
    } else if (open) {
      // The conditions stopped holding at this reading: the span reaches it.
      open.to = t
      open = null
    }
  }
  return spans
}
