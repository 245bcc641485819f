import {
  DEVICE_TYPES,
  type DeviceType,
  decodeTelemetry,
  deviceTypeOf,
  type ErrorCode,
  evaluateReading,
  newDeviceRuleState,
  OFFLINE_RULE,
} from '#devices'
import { createModel } from '../models/index.ts'
import { createRng, seedFor } from '../rng.ts'
import { SCENARIO_EPOCH, type Scenario } from './scenario.ts'

export interface PlannedMessage {
  /** Simulated time. */
  at: number
  /** Device time it is sent with (simulated time moved to the recent past), or absent to send the real time. */
  ts?: number
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
  /** Added to simulated time to get device time; null when the scenario runs in real time (paced). */
  shiftMs: number | null
  devices: PlannedDevice[]
  /** Raised alerts under the default rules: the ground truth a run must reproduce. */
  alerts: ExpectedAlert[]
  quarantine: { device: string; code: ErrorCode }[]
}

const WEEK = 7 * 86_400_000

/**
 * Rules that judge time (a trend over days, a window over hours, last 28 nights) must see device
 * times as far apart as simulated time, so a replay sends the simulated times moved into the recent
 * past by whole weeks: weekdays and times of day stay what the scenario says. Ending a minute before
 * `endAt` keeps every reading inside the service's accepted window (TIME_LATE_S must cover the length).
 */
export function shiftFor(s: Scenario, endAt: number): number {
  return -Math.ceil((SCENARIO_EPOCH + s.durationMs - (endAt - 60_000)) / WEEK) * WEEK
}

/** Everything each device of a scenario will send, in order, and what the service must make of it. */
export function planScenario(s: Scenario, seed = 1, endAt = Date.now()): Plan {
  const end = SCENARIO_EPOCH + s.durationMs
  const shiftMs = s.paced ? null : shiftFor(s, endAt)
  const devices: PlannedDevice[] = s.devices.map((d) => {
    const model = createModel(d.type, createRng(seedFor(seed, d.key)), SCENARIO_EPOCH, d.options ?? {})
    const messages: PlannedMessage[] = []
    const step = model.intervalMs / 4
    const silentAt = s.silentFrom?.[d.key] ?? Number.POSITIVE_INFINITY
    for (let t = SCENARIO_EPOCH; t < Math.min(end, silentAt); t += step) {
      const e = model.tick(t)
      if (e?.readings) messages.push({ at: t, readings: e.readings, ...(shiftMs !== null && { ts: t + shiftMs }) })
    }
    // Bad payloads go with the real time: one is about a device clock running ahead of it.
    for (const inj of s.inject ?? []) if (inj.device === d.key) messages.push({ at: inj.at, raw: inj.raw, expectCode: inj.code })
    messages.sort((a, b) => a.at - b.at)
    return { key: d.key, type: d.type, intervalMs: model.intervalMs, messages }
  })
  return {
    scenario: s,
    shiftMs,
    devices,
    alerts: expectedAlerts(devices, s),
    quarantine: devices.flatMap((d) => d.messages.filter((m) => m.expectCode).map((m) => ({ device: d.key, code: m.expectCode! }))),
  }
}

/**
 * Ground truth: each planned reading through the same validation and the same per-device
 * evaluation the alert engine uses (devices/rules/device-eval.ts), in order. Silent devices add
 * one device-offline.
 */
function expectedAlerts(devices: PlannedDevice[], s: Scenario): ExpectedAlert[] {
  const out: ExpectedAlert[] = []
  for (const d of devices) {
    const def = deviceTypeOf(d.type)!
    const state = newDeviceRuleState()
    for (const m of d.messages) {
      if (!m.readings) continue
      const decoded = decodeTelemetry(new TextEncoder().encode(JSON.stringify({ readings: m.readings })), def, 0)
      if (decoded.outcome !== 'accepted') continue
      // A paced run sends real, evenly spaced times; simulated time stands in for them.
      for (const tr of evaluateReading(def.rules, def.derive, state, m.ts ?? m.at, decoded.readings)) {
        if (tr.transition === 'raised') out.push({ device: d.key, rule: tr.rule.id })
      }
    }
    if (s.silentFrom?.[d.key] !== undefined) out.push({ device: d.key, rule: OFFLINE_RULE.id })
  }
  return out
}

export const ALL_RULES = Object.values(DEVICE_TYPES).flatMap((t) => t.rules.map((r) => r.id))
