import {
  type Device,
  type DeviceTypeDef,
  evaluate,
  INITIAL_RULE_STATE,
  isSilent,
  type LiveBus,
  numericField,
  OFFLINE_RULE,
  type RuleState,
} from '#devices'
import type { AlertRepo } from '../registry/alert-repo.ts'

export interface Alerting {
  start(): void
  onReading(device: Device, def: DeviceTypeDef, ts: number, readings: Record<string, unknown>): void
  /** Raises `device-offline` for devices silent for too many intervals; run on a timer. */
  checkSilence(devices: readonly Device[], now?: number): void
}

interface DeviceAlerts {
  rules: RuleState[]
  /** Newest reading time evaluated: a redelivered or late reading must not count again. */
  lastTs: number
  /** When we last heard from the device (arrival time), for the offline rule. */
  heardAt: number
  offline: boolean
}

/**
 * Runs a device type's rules on each accepted reading. Only transitions touch
 * the store and the bus; the store's unique (device, rule, time) key makes a
 * redelivered reading raise nothing twice.
 */
export function createAlerting(deps: {
  alerts: AlertRepo
  bus: LiveBus
  rulesOf: (type: string) => DeviceTypeDef['rules']
  now?: () => number
}): Alerting {
  const now = deps.now ?? Date.now
  const startedAt = now()
  const devices = new Map<string, DeviceAlerts>()

  const stateFor = (id: string, n: number) => {
    let s = devices.get(id)
    if (!s) {
      s = { rules: new Array<RuleState>(n).fill(INITIAL_RULE_STATE), lastTs: Number.NEGATIVE_INFINITY, heardAt: startedAt, offline: false }
      devices.set(id, s)
    }
    return s
  }

  return {
    start() {
      // Open alerts survive a restart: their rules start active so they can clear.
      for (const a of deps.alerts.open()) {
        const rules = deps.rulesOf(a.deviceType)
        const s = stateFor(a.deviceId, rules.length)
        if (a.ruleId === OFFLINE_RULE.id) s.offline = true
        const i = rules.findIndex((r) => r.id === a.ruleId)
        if (i >= 0) s.rules[i] = { active: true, count: 0 }
      }
    },
    onReading(device, def, ts, readings) {
      const s = stateFor(device.id, def.rules.length)
      s.heardAt = now()
      if (s.offline) {
        s.offline = false
        const alert = deps.alerts.clear(device.id, OFFLINE_RULE.id, s.heardAt)
        if (alert) deps.bus.emit('alert:cleared', alert)
      }
      if (ts <= s.lastTs) return
      s.lastTs = ts
      for (let i = 0; i < def.rules.length; i++) {
        const rule = def.rules[i]!
        const value = numericField(readings, rule.field)
        const r = evaluate(rule, s.rules[i]!, value)
        s.rules[i] = r.state
        if (r.transition === 'raised') {
          const alert = deps.alerts.raise({ deviceId: device.id, deviceType: device.type, site: device.site, rule, value: value!, ts })
          if (alert) deps.bus.emit('alert:raised', alert)
        } else if (r.transition === 'cleared') {
          const alert = deps.alerts.clear(device.id, rule.id, ts)
          if (alert) deps.bus.emit('alert:cleared', alert)
        }
      }
    },
    checkSilence(list, t = now()) {
      for (const d of list) {
        const s = stateFor(d.id, deps.rulesOf(d.type).length)
        // Counted from our start or the device's provisioning, whichever is later.
        const since = Math.max(s.heardAt, Date.parse(d.createdAt))
        if (s.offline || !isSilent(since, d.intervalS, t)) continue
        s.offline = true
        const silentS = Math.round((t - since) / 1000)
        const alert = deps.alerts.raise({ deviceId: d.id, deviceType: d.type, site: d.site, rule: OFFLINE_RULE, value: silentS, ts: t })
        if (alert) deps.bus.emit('alert:raised', alert)
      }
    },
  }
}
