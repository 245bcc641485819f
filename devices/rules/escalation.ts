import type { Severity } from '../alerts/rule.ts'
import type { RuleEscalation } from './base.ts'

interface Escalates {
  severity: Severity
  escalation?: RuleEscalation | undefined
}

/** When an unacknowledged alert raised at `raisedAt` escalates, or null if it never will. */
export function escalatesAt(rule: Escalates, raisedAt: number): number | null {
  return rule.escalation ? raisedAt + rule.escalation.afterS * 1000 : null
}

/**
 * Severity of an alert at time `at`. Acknowledging before the delay stops the escalation;
 * acknowledging after it does not undo it (the history already says it escalated).
 */
export function severityAt(rule: Escalates, alert: { raisedAt: number; acknowledgedAt: number | null }, at: number): Severity {
  const due = escalatesAt(rule, alert.raisedAt)
  if (due === null || at < due || !rule.escalation) return rule.severity
  if (alert.acknowledgedAt !== null && alert.acknowledgedAt < due) return rule.severity
  return rule.escalation.to
}
