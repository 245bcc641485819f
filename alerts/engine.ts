import type { Logger } from 'pino'
import {
  type Alert,
  type Device,
  type DeviceTypeDef,
  evaluate,
  INITIAL_RULE_STATE,
  isSilent,
  type LiveBus,
  numericField,
  OFFLINE_RULE,
  type ReadingRecord,
  type RuleState,
} from '#devices'
import type { Batch } from '../log/cursor.ts'
import type { ReaderHandler } from '../log/reader.ts'
import type { Position } from '../log/segments.ts'
import type { AlertRepo, RaiseInput } from '../registry/alert-repo.ts'

/** What the alert engine needs of the store: alerts, rule state and its checkpoint, written in one transaction. */
export interface AlertEngineStore {
  alerts: Pick<AlertRepo, 'raise' | 'clear' | 'open'>
  alertState: { all(): (readonly [string, unknown])[]; put(deviceId: string, state: unknown): void }
  checkpoints: { get(reader: string): Position | null; set(reader: string, p: Position): void }
  transaction<T>(fn: () => T): T
}

/** Rule state of one device, keyed by rule id so that adding or reordering rules keeps it. */
interface DeviceRules {
  /** Newest reading time evaluated: a redelivered or late reading is stored but not evaluated. */
  lastTs: number | null
  rules: Record<string, RuleState>
}

type Transition = { kind: 'raise'; input: RaiseInput } | { kind: 'clear'; deviceId: string; ruleId: string; at: number }

export const ALERT_READER = 'alerts'

/**
 * Evaluates the rules of each durably accepted reading, as a reader of the log.
 * A batch's transitions, the rule states it changed and the checkpoint commit in
 * one transaction, so a crash neither loses nor doubles a transition; events go
 * to the bus only after the commit.
 */
export function createAlertEngine(deps: {
  store: AlertEngineStore
  bus: LiveBus
  rulesOf: (type: string) => DeviceTypeDef['rules']
  log: Logger
  now?: () => number
}) {
  const now = deps.now ?? Date.now
  const states = new Map<string, DeviceRules>()
  const offline = new Set<string>()
  const heardAt = new Map<string, number>()
  let startedAt = now()

  const stateOf = (id: string, working: Map<string, DeviceRules>): DeviceRules => {
    let s = working.get(id)
    if (!s) {
      const saved = states.get(id)
      s = saved ? { lastTs: saved.lastTs, rules: { ...saved.rules } } : { lastTs: null, rules: {} }
      working.set(id, s)
    }
    return s
  }

  const evaluateReading = (r: ReadingRecord, working: Map<string, DeviceRules>, out: Transition[]) => {
    const rules = deps.rulesOf(r.type)
    const s = stateOf(r.deviceId, working)
    if (s.lastTs !== null && r.ts <= s.lastTs) return
    s.lastTs = r.ts
    for (const rule of rules) {
      const value = numericField(r.readings, rule.field)
      const e = evaluate(rule, s.rules[rule.id] ?? INITIAL_RULE_STATE, value)
      s.rules[rule.id] = e.state
      if (e.transition === 'raised') {
        out.push({ kind: 'raise', input: { deviceId: r.deviceId, deviceType: r.type, site: r.site, rule, value: value!, ts: r.ts } })
      } else if (e.transition === 'cleared') {
        out.push({ kind: 'clear', deviceId: r.deviceId, ruleId: rule.id, at: r.ts })
      }
    }
  }

  const emit = (event: 'alert:raised' | 'alert:cleared', alert: Alert | null) => {
    if (alert) deps.bus.emit(event, alert)
  }

  const handler: ReaderHandler = {
    async load() {
      startedAt = now()
      states.clear()
      offline.clear()
      for (const [id, s] of deps.store.alertState.all()) states.set(id, s as DeviceRules)
      for (const a of deps.store.alerts.open()) {
        if (a.ruleId === OFFLINE_RULE.id) {
          offline.add(a.deviceId)
          continue
        }
        // An open alert with no saved state (stored before rule state was): its rule starts active so it can clear.
        const s = states.get(a.deviceId) ?? { lastTs: null, rules: {} }
        if (!s.rules[a.ruleId]) s.rules[a.ruleId] = { active: true, count: 0 }
        states.set(a.deviceId, s)
      }
      return deps.store.checkpoints.get(ALERT_READER)
    },
    async handle(batch: Batch) {
      const working = new Map<string, DeviceRules>()
      const out: Transition[] = []
      const heard = new Map<string, number>()
      for (const r of batch.records) {
        if (r.kind !== 'reading') continue
        if (offline.has(r.deviceId) && !heard.has(r.deviceId))
          out.push({ kind: 'clear', deviceId: r.deviceId, ruleId: OFFLINE_RULE.id, at: r.receivedAt })
        heard.set(r.deviceId, r.receivedAt)
        // Suspicious readings are stored and flagged but never raise or clear alerts.
        if (r.quality === 'good') evaluateReading(r, working, out)
      }
      const changed = deps.store.transaction(() => {
        const done: ['alert:raised' | 'alert:cleared', Alert | null][] = []
        for (const t of out) {
          if (t.kind === 'raise') done.push(['alert:raised', deps.store.alerts.raise(t.input)])
          else done.push(['alert:cleared', deps.store.alerts.clear(t.deviceId, t.ruleId, t.at)])
        }
        for (const [id, s] of working) deps.store.alertState.put(id, s)
        deps.store.checkpoints.set(ALERT_READER, batch.end)
        return done
      })
      // Only now is the batch's outcome durable: update memory, then tell the dashboards.
      for (const [id, s] of working) states.set(id, s)
      for (const [id, at] of heard) {
        heardAt.set(id, Math.max(heardAt.get(id) ?? 0, at))
        offline.delete(id)
      }
      for (const [event, alert] of changed) emit(event, alert)
    },
  }

  return {
    handler,
    /** Raises `device-offline` for devices silent for too many intervals; run on a timer. */
    checkSilence(list: readonly Device[], t = now()) {
      for (const d of list) {
        // Counted from our start or the device's provisioning, whichever is later.
        const since = Math.max(heardAt.get(d.id) ?? startedAt, startedAt, Date.parse(d.createdAt))
        if (offline.has(d.id) || !isSilent(since, d.intervalS, t)) continue
        offline.add(d.id)
        const silentS = Math.round((t - since) / 1000)
        emit(
          'alert:raised',
          deps.store.alerts.raise({ deviceId: d.id, deviceType: d.type, site: d.site, rule: OFFLINE_RULE, value: silentS, ts: t }),
        )
      }
    },
  }
}
export type AlertEngine = ReturnType<typeof createAlertEngine>
