import type { Logger } from 'pino'
import {
  type Alert,
  type AlertRule,
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

/** A raised alert to store: keyed by (device, rule, reading time), so a replay raises nothing twice. */
export interface RaiseInput {
  deviceId: string
  deviceType: string
  site: string
  rule: Pick<AlertRule, 'id' | 'title' | 'severity'> & { text?: string | undefined }
  value: number
  /** What the rule computed besides its value (forecast time, wasted kWh and cost, …), for people and the history. */
  detail?: Readonly<Record<string, number | boolean | null>> | undefined
  /** Reading time, epoch ms. */
  ts: number
}
export interface ClearInput {
  deviceId: string
  ruleId: string
  /** Epoch ms. */
  at: number
  /** The reading that cleared it, when there is one, for the history. */
  value?: number | undefined
}

export interface AlertChange {
  action: 'raised' | 'cleared'
  alert: Alert
}

/** One batch of the engine: applied in a single transaction, or not at all. */
export interface EngineBatch {
  reader: string
  /** Where the reader is once this batch is applied. */
  checkpoint: Position
  /** [deviceId, state as JSON text]; a device listed twice keeps its last state. */
  states: ReadonlyArray<readonly [string, string]>
  raise: readonly RaiseInput[]
  clear: readonly ClearInput[]
}

/** What the alert engine needs of the store: transitions, rule states and its checkpoint commit in one transaction. */
export interface AlertEngineStore {
  loadEngine(reader: string): Promise<{ checkpoint: Position | null; states: Map<string, string> }>
  open(): Promise<Alert[]>
  raise(input: RaiseInput): Promise<Alert | null>
  commitBatch(batch: EngineBatch): Promise<AlertChange[]>
}

/** Rule state of one device, keyed by rule id so that adding or reordering rules keeps it. */
interface DeviceRules {
  /** Newest reading time evaluated: a redelivered or late reading is stored but not evaluated. */
  lastTs: number | null
  rules: Record<string, RuleState>
}

export const ALERT_READER = 'alerts'
const COMMIT_EVERY_MS = 500

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
  // `states` is what the store holds; `pending` what batches changed since the last commit.
  const states = new Map<string, DeviceRules>()
  const pending = new Map<string, DeviceRules>()
  let committedAt: Position | null = null
  let lastCommit = 0
  // Devices with an open device-offline alert, and when it was raised: only a reading that arrived
  // after that clears it (a replay of older readings after a restart must not).
  const offline = new Map<string, number>()
  let lastEnd: Position | null = null
  // handle() and checkSilence() take turns: on a pooled store they would otherwise race on one alert.
  let turn: Promise<unknown> = Promise.resolve()
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const r = turn.then(fn, fn)
    turn = r.catch(() => {})
    return r
  }
  const heardAt = new Map<string, number>()
  let startedAt = now()

  const stateOf = (id: string, working: Map<string, DeviceRules>): DeviceRules => {
    let s = working.get(id)
    if (!s) {
      const saved = pending.get(id) ?? states.get(id)
      s = saved ? { lastTs: saved.lastTs, rules: { ...saved.rules } } : { lastTs: null, rules: {} }
      working.set(id, s)
    }
    return s
  }

  const evaluateReading = (r: ReadingRecord, working: Map<string, DeviceRules>, raise: RaiseInput[], clear: ClearInput[]) => {
    const rules = deps.rulesOf(r.type)
    const s = stateOf(r.deviceId, working)
    if (s.lastTs !== null && r.ts <= s.lastTs) return
    s.lastTs = r.ts
    for (const rule of rules) {
      const value = numericField(r.readings, rule.field)
      const e = evaluate(rule, s.rules[rule.id] ?? INITIAL_RULE_STATE, value)
      s.rules[rule.id] = e.state
      if (e.transition === 'raised') {
        raise.push({ deviceId: r.deviceId, deviceType: r.type, site: r.site, rule, value: value!, ts: r.ts })
      } else if (e.transition === 'cleared') {
        clear.push({ deviceId: r.deviceId, ruleId: rule.id, at: r.ts, value })
      }
    }
  }

  const emit = (event: 'alert:raised' | 'alert:cleared', alert: Alert | null) => {
    if (alert) deps.bus.emit(event, alert)
  }

  const handler: ReaderHandler = {
    async load() {
      startedAt = now()
      const saved = await deps.store.loadEngine(ALERT_READER)
      const open = await deps.store.open()
      states.clear()
      pending.clear()
      offline.clear()
      committedAt = saved.checkpoint
      for (const [id, json] of saved.states) states.set(id, JSON.parse(json) as DeviceRules)
      for (const a of open) {
        if (a.ruleId === OFFLINE_RULE.id) {
          offline.set(a.deviceId, Date.parse(a.raisedAt))
          continue
        }
        // An open alert with no saved state (stored before rule state was): its rule starts active so it can clear.
        const s = states.get(a.deviceId) ?? { lastTs: null, rules: {} }
        if (!s.rules[a.ruleId]) s.rules[a.ruleId] = { active: true, count: 0 }
        states.set(a.deviceId, s)
      }
      return saved.checkpoint
    },
    handle: (batch: Batch) => exclusive(() => handleBatch(batch)),
    close: () => exclusive(savePending),
  }

  /** Saves rule state held back by skipped commits, with the position it belongs to. */
  async function savePending() {
    if (pending.size === 0 || !lastEnd) return
    await deps.store.commitBatch({
      reader: ALERT_READER,
      checkpoint: lastEnd,
      states: [...pending].map(([id, s]) => [id, JSON.stringify(s)] as const),
      raise: [],
      clear: [],
    })
    for (const [id, s] of pending) states.set(id, s)
    pending.clear()
    committedAt = lastEnd
  }

  async function handleBatch(batch: Batch): Promise<Position> {
    const working = new Map<string, DeviceRules>()
    const raise: RaiseInput[] = []
    const clear: ClearInput[] = []
    const heard = new Map<string, number>()
    const backOnline = new Set<string>()
    for (const r of batch.records) {
      if (r.kind !== 'reading') continue
      const offlineSince = offline.get(r.deviceId)
      if (offlineSince !== undefined && r.receivedAt > offlineSince && !backOnline.has(r.deviceId)) {
        backOnline.add(r.deviceId)
        clear.push({ deviceId: r.deviceId, ruleId: OFFLINE_RULE.id, at: r.receivedAt })
      }
      heard.set(r.deviceId, r.receivedAt)
      // Suspicious readings are stored and flagged but never raise or clear alerts.
      if (r.quality === 'good') evaluateReading(r, working, raise, clear)
    }
    for (const [id, at] of heard) heardAt.set(id, Math.max(heardAt.get(id) ?? 0, at))
    // A batch with no transition need not be its own transaction: rule state and checkpoint are saved
    // together at most every COMMIT_EVERY_MS, and a crash in between replays those batches to the same state.
    lastEnd = batch.end
    if (raise.length === 0 && clear.length === 0 && now() - lastCommit < COMMIT_EVERY_MS) {
      for (const [id, s] of working) pending.set(id, s)
      return committedAt ?? { segment: 0, offset: 0 }
    }
    const before = new Map([...working.keys()].map((id) => [id, pending.get(id)] as const))
    for (const [id, s] of working) pending.set(id, s)
    let changed: Awaited<ReturnType<AlertEngineStore['commitBatch']>>
    try {
      changed = await deps.store.commitBatch({
        reader: ALERT_READER,
        checkpoint: batch.end,
        states: [...pending].map(([id, s]) => [id, JSON.stringify(s)] as const),
        raise,
        clear,
      })
    } catch (e) {
      // This batch is tried again: its changes must not count as seen.
      for (const [id, s] of before) {
        if (s) pending.set(id, s)
        else pending.delete(id)
      }
      throw e
    }
    // Only now is the outcome durable: update memory, then tell the dashboards.
    for (const [id, s] of pending) states.set(id, s)
    pending.clear()
    committedAt = batch.end
    lastCommit = now()
    for (const c of clear) if (c.ruleId === OFFLINE_RULE.id) offline.delete(c.deviceId)
    for (const c of changed) emit(c.action === 'raised' ? 'alert:raised' : 'alert:cleared', c.alert)
    return batch.end
  }

  return {
    handler,
    /** Raises `device-offline` for devices silent for too many intervals; run on a timer. */
    checkSilence: (list: readonly Device[], t = now()) =>
      exclusive(async () => {
        for (const d of list) {
          // Counted from our start or the device's provisioning, whichever is later.
          const since = Math.max(heardAt.get(d.id) ?? startedAt, startedAt, Date.parse(d.createdAt))
          if (offline.has(d.id) || !isSilent(since, d.intervalS, t)) continue
          const silentS = Math.round((t - since) / 1000)
          const alert = await deps.store.raise({
            deviceId: d.id,
            deviceType: d.type,
            site: d.site,
            rule: OFFLINE_RULE,
            value: silentS,
            ts: t,
          })
          // Marked offline only once stored: a failed raise is tried again on the next check.
          offline.set(d.id, t)
          emit('alert:raised', alert)
        }
      }),
  }
}
export type AlertEngine = ReturnType<typeof createAlertEngine>
