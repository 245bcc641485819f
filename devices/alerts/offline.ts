import type { AlertRule } from './rule.ts'

/**
 * A device is offline when it has missed this many reporting intervals
 * (domain.md §5.1: "offline after 3 missed intervals"). Applies to every type.
 */
export const OFFLINE_MISSED_INTERVALS = 3

export const OFFLINE_RULE = {
  id: 'device-offline',
  title: 'Device not reporting',
  severity: 'warning',
} as const satisfies Pick<AlertRule, 'id' | 'title' | 'severity'>

/** True when nothing has been heard for longer than the allowed number of intervals. */
export function isSilent(lastHeardMs: number, intervalS: number, now: number): boolean {
  return now - lastHeardMs > OFFLINE_MISSED_INTERVALS * intervalS * 1000
}
