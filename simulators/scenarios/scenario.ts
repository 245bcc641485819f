import type { DeviceType, ErrorCode } from '#devices'
import type { ModelOptions } from '../models/index.ts'

/** Monday 2 November 2026, 00:00 UTC: scenarios start on a Monday so weekdays are predictable. */
export const SCENARIO_EPOCH = Date.UTC(2026, 10, 2)
export const D = 86_400_000
export const H = 3_600_000

export interface ScenarioDevice<T extends DeviceType = DeviceType> {
  key: string
  type: T
  options?: ModelOptions[T]
}

export interface Injection {
  /** Simulated time of the message. */
  at: number
  device: string
  /** The payload, given the device time it would carry. */
  raw: (ts: number) => string
  /** Where it must end up. */
  code: ErrorCode
}

export interface Scenario {
  name: string
  description: string
  /** Simulated length. */
  durationMs: number
  devices: ScenarioDevice[]
  inject?: Injection[]
  /** Devices that stop reporting at this simulated time. */
  silentFrom?: Record<string, number>
  /**
   * Run in simulated time at this speed (simulated ms per real ms) so that silence is
   * real; otherwise readings go as fast as the broker acknowledges them.
   */
  paced?: number
  /** Collection rounds (London weekdays 1 = Monday … 7 = Sunday) and the bins on them, set up through the API before the run. */
  rounds?: { key: string; weekdays: number[]; time?: string; bins: string[] }[]
  /** Alerts the scenario exists to show; they must be among the expected ones. Empty when it shows that nothing is raised. */
  about: { device: string; rule: string }[]
  /** Rules allowed in the expected alerts (normal-week: only full bins); [] when nothing may be raised. */
  onlyRules?: string[]
}

export const scenario = (s: Scenario) => s
