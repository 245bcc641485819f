import {
  DEVICE_TYPES,
  type DeviceType,
  decodeTelemetry,
  deviceTypeOf,
  type ErrorCode,
  evaluate,
  INITIAL_RULE_STATE,
  numericField,
  OFFLINE_RULE,
  type RuleState,
} from '#devices'
import { createModel } from '../models/index.ts'
import { createRng, seedFor } from '../rng.ts'
import { SCENARIO_EPOCH, type Scenario } from './scenario.ts'

export interface PlannedMessage {
  /** Simulated time. */
  at: number
  /** Readings to send as native JSON with the device time, or a raw payload. */
  readings?: Record<string, number | boolean | string>
  raw?: (ts: number) => string
  expectCode?: ErrorCode
}

export interface PlannedDevice {
  key: string
  type: DeviceType
  intervalMs: number
  messages: PlannedMessage[]
}

export interface ExpectedAlert {
  device: string
  rule: string
}

export interface Plan {
  scenario: Scenario
  devices: PlannedDevice[]
  /** Raised alerts under the default rules: the ground truth a run must reproduce. */
  alerts: ExpectedAlert[]
  quarantine: { device: string; code: ErrorCode }[]
}

/** Everything each device of a scenario will send, in order, and what the service must make of it. */
export function planScenario(s: Scenario, seed = 1): Plan {
  const end = SCENARIO_EPOCH + s.durationMs
  const devices: PlannedDevice[] = s.devices.map((d) => {
    const model = createModel(d.type, createRng(seedFor(seed, d.key)), SCENARIO_EPOCH, d.options ?? {})
    const messages: PlannedMessage[] = []
    const step = model.intervalMs / 4
    const silentAt = s.silentFrom?.[d.key] ?? Number.POSITIVE_INFINITY
    for (let t = SCENARIO_EPOCH; t < Math.min(end, silentAt); t += step) {
      const e = model.tick(t)
      if (e?.readings) messages.push({ at: t, readings: e.readings })
    }
    for (const inj of s.inject ?? []) if (inj.device === d.key) messages.push({ at: inj.at, raw: inj.raw, expectCode: inj.code })
    messages.sort((a, b) => a.at - b.at)
    return { key: d.key, type: d.type, intervalMs: model.intervalMs, messages }
  })
  return {
    scenario: s,
    devices,
    alerts: expectedAlerts(devices, s),
    quarantine: devices.flatMap((d) => d.messages.filter((m) => m.expectCode).map((m) => ({ device: d.key, code: m.expectCode! }))),
  }
}

/**
 * Ground truth: each planned reading through the same validation and default rules
 * the service uses (devices/), in order. Silent devices add one device-offline.
 */
function expectedAlerts(devices: PlannedDevice[], s: Scenario): ExpectedAlert[] {
  const out: ExpectedAlert[] = []
  for (const d of devices) {
    const def = deviceTypeOf(d.type)!
    const state: RuleState[] = def.rules.map(() => INITIAL_RULE_STATE)
    for (const m of d.messages) {
      if (!m.readings) continue
      const decoded = decodeTelemetry(new TextEncoder().encode(JSON.stringify({ readings: m.readings })), def, 0)
      if (decoded.outcome !== 'accepted') continue
      def.rules.forEach((rule, i) => {
        const r = evaluate(rule, state[i]!, numericField(decoded.readings, rule.field))
        state[i] = r.state
        if (r.transition === 'raised') out.push({ device: d.key, rule: rule.id })
      })
    }
    if (s.silentFrom?.[d.key] !== undefined) out.push({ device: d.key, rule: OFFLINE_RULE.id })
  }
  return out
}

export const ALL_RULES = Object.values(DEVICE_TYPES).flatMap((t) => t.rules.map((r) => r.id))
