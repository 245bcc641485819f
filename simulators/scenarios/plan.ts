import {
  CollectionSchedule,
  DEVICE_TYPES,
  type DeviceType,
  decodeTelemetry,
  deviceTypeOf,
  type ErrorCode,
  evaluateReading,
  IncidentPolicy,
  isIncident,
  newDeviceRuleState,
  OFFLINE_RULE,
  silentTogether,
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
  /** Device time of the reading that raised it (simulated time for a paced scenario); for device-offline, when it went silent. */
  t: number
  /** What the rule computed when it raised (forecast time, wasted kWh, …). */
  detail?: Readonly<Record<string, number | boolean | null>> | undefined
}

export interface Plan {
  scenario: Scenario
  /** Added to simulated time to get device time; null when the scenario runs in real time (paced). */
  shiftMs: number | null
  devices: PlannedDevice[]
  /** Raised alerts under the default rules: the ground truth a run must reproduce. */
  alerts: ExpectedAlert[]
  /** Incidents (many devices silent together) the default policy makes of the silent devices: the devices of each. */
  incidents: string[][]
  /** Collections seen in the bins' levels (the detector the collections reader uses): device time, or null when paced. */
  collections: { device: string; at: number | null }[]
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
    ...expected(devices, s, shiftMs !== null),
    incidents: expectedIncidents(s),
    quarantine: devices.flatMap((d) => d.messages.filter((m) => m.expectCode).map((m) => ({ device: d.key, code: m.expectCode! }))),
  }
}

/**
 * Ground truth: each planned reading through the same validation and the same per-device
 * evaluation the alert engine uses (devices/rules/device-eval.ts), in order. The evaluation also
 * runs the collection detector the collections reader uses, so collections come from the same
 * pass. Silent devices add one device-offline.
 */
function expected(devices: PlannedDevice[], s: Scenario, timed: boolean): Pick<Plan, 'alerts' | 'collections'> {
  const alerts: ExpectedAlert[] = []
  const collections: Plan['collections'] = []
  for (const d of devices) {
    const def = deviceTypeOf(d.type)!
    const state = newDeviceRuleState()
    const round = s.rounds?.find((r) => r.bins.includes(d.key))
    const schedule = round ? CollectionSchedule.parse({ weekdays: round.weekdays, ...(round.time && { time: round.time }) }) : null
    for (const m of d.messages) {
      if (!m.readings) continue
      const decoded = decodeTelemetry(new TextEncoder().encode(JSON.stringify({ readings: m.readings })), def, 0)
      if (decoded.outcome !== 'accepted') continue
      const collectedBefore = state.collection?.lastAt ?? null
      // A paced run sends real, evenly spaced times; simulated time stands in for them.
      for (const tr of evaluateReading(def.rules, def, state, m.ts ?? m.at, decoded.readings, { schedule })) {
        if (tr.transition === 'raised') alerts.push({ device: d.key, rule: tr.rule.id, t: tr.t, detail: tr.detail })
      }
      const collectedAt = state.collection?.lastAt ?? null
      if (collectedAt !== collectedBefore) collections.push({ device: d.key, at: timed ? collectedAt : null })
    }
    const silentAt = s.silentFrom?.[d.key]
    if (silentAt !== undefined) alerts.push({ device: d.key, rule: OFFLINE_RULE.id, t: silentAt })
  }
  return { alerts, collections }
}

/**
 * A scenario runs on a site of its own, so its silent devices are judged against its own
 * devices, as the engine does: those that went quiet together, under the default policy.
 */
function expectedIncidents(s: Scenario): string[][] {
  const silent = s.silentFrom ? Object.entries(s.silentFrom) : []
  if (silent.length === 0) return []
  const policy = IncidentPolicy.parse({})
  const intervalS = 1 // a paced scenario's devices report once per real second or so; only "missed one interval" matters here
  const site = s.devices.map((d) => ({ id: d.key, since: s.silentFrom?.[d.key] ?? Number.POSITIVE_INFINITY, intervalS }))
  // As the engine does: the largest group any silent device belongs to.
  let together: typeof site = []
  for (const [id, since] of silent) {
    const group = silentTogether(policy, { id, since, intervalS }, site, Number.POSITIVE_INFINITY)
    if (group.length > together.length) together = group
  }
  return isIncident(policy, together.length, s.devices.length) ? [together.map((d) => d.id).sort()] : []
}

export const ALL_RULES = Object.values(DEVICE_TYPES).flatMap((t) => t.rules.map((r) => r.id))
