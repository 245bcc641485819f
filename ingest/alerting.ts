import { type Device, type DeviceTypeDef, evaluate, INITIAL_RULE_STATE, type LiveBus, numericField, type RuleState } from '#devices'
import type { AlertRepo } from '../registry/alert-repo.ts'

export interface Alerting {
  start(): void
  onReading(device: Device, def: DeviceTypeDef, ts: number, readings: Record<string, unknown>): void
}

/**
 * Runs a device type's rules on each accepted reading. Only transitions touch
 * the store and the bus; the store's unique (device, rule, reading time) key makes
 * a redelivered reading raise nothing twice.
 */
export function createAlerting(deps: { alerts: AlertRepo; bus: LiveBus; rulesOf: (type: string) => DeviceTypeDef['rules'] }): Alerting {
  const states = new Map<string, RuleState[]>()
  // Newest reading time evaluated per device: a redelivered or late reading must not count again.
  const lastTs = new Map<string, number>()

  const stateFor = (device: Device, n: number) => {
    let s = states.get(device.id)
    if (!s) {
      s = new Array<RuleState>(n).fill(INITIAL_RULE_STATE)
      states.set(device.id, s)
    }
    return s
  }

  return {
    start() {
      // Open alerts survive a restart: their rules start active so they can clear.
      for (const a of deps.alerts.open()) {
        const rules = deps.rulesOf(a.deviceType)
        const i = rules.findIndex((r) => r.id === a.ruleId)
        if (i < 0) continue
        const s = states.get(a.deviceId) ?? new Array<RuleState>(rules.length).fill(INITIAL_RULE_STATE)
        s[i] = { active: true, breaches: 0 }
        states.set(a.deviceId, s)
      }
    },
    onReading(device, def, ts, readings) {
      if (ts <= (lastTs.get(device.id) ?? Number.NEGATIVE_INFINITY)) return
      lastTs.set(device.id, ts)
      const s = stateFor(device, def.rules.length)
      for (let i = 0; i < def.rules.length; i++) {
        const rule = def.rules[i]!
        const value = numericField(readings, rule.field)
        const r = evaluate(rule, s[i]!, value)
        s[i] = r.state
        if (r.transition === 'raised') {
          const alert = deps.alerts.raise({ deviceId: device.id, deviceType: device.type, site: device.site, rule, value: value!, ts })
          if (alert) deps.bus.emit('alert:raised', alert)
        } else if (r.transition === 'cleared') {
          const alert = deps.alerts.clear(device.id, rule.id, ts)
          if (alert) deps.bus.emit('alert:cleared', alert)
        }
      }
    },
  }
}
