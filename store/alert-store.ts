import { type Alert, type AlertHistoryEntry, OPEN_STATUSES, type Visible } from '#devices'
import type { AlertChange, AlertEngineStore, EngineBatch } from '../alerts/engine.ts'
import {
  type ClearInput,
  type Command,
  type CommandResult,
  clearIn,
  commandIn,
  type Db,
  escalateIn,
  type RaiseInput,
  raiseIn,
  SYSTEM_ACTOR,
  toAlert,
  toEntry,
} from './alert-transitions.ts'
import { type Checkpoint, readCheckpoint, writeCheckpoint } from './checkpoint-store.ts'
import { checkFence } from './reader-fences.ts'
import { visibleWhere } from './visible.ts'

export { type ClearInput, type Command, type CommandResult, type RaiseInput, SYSTEM_ACTOR } from './alert-transitions.ts'

export interface AlertFilter {
  /** open = active or acknowledged. */
  status?: Alert['status'] | 'open' | undefined
  deviceId?: string | undefined
  site?: string | undefined
  ruleId?: string | undefined
  incidentId?: string | undefined
  assignedTo?: string | undefined
  /** Whether snoozedUntil is in the future (at `now`). */
  snoozed?: boolean | undefined
  /** Only alerts of devices a caller may see (scope.visible()); an empty list shows nothing. */
  visible?: readonly Visible[] | undefined
  limit?: number | undefined
  /** Only those after this one in the listing's order (newest first): the last alert of the page before. */
  before?: { raisedTs: number; id: string } | undefined
}

export type { AlertChange, EngineBatch }

/** The engine's port, plus what the API does with alerts. */
export interface AlertStore extends AlertEngineStore {
  /** Stores a raised alert; null when this (device, rule, reading time) was already raised (a redelivery). */
  raise(input: RaiseInput, actor?: string): Promise<Alert | null>
  /** Clears the open alert of (device, rule); null when none is open. */
  clear(input: ClearInput, actor?: string): Promise<Alert | null>
  /** What a person does to an alert (acknowledge, assign, snooze, unsnooze, resolve, reopen), with its history entry. */
  command(id: string, command: Command, actor: string, at: Date): Promise<CommandResult>
  /** Acknowledges an active alert; 'not-open' when it is not active. Kept for callers from before `command`. */
  acknowledge(id: string, by: string, at: Date, comment?: string): Promise<Alert | null | 'not-open'>
  get(id: string): Promise<Alert | null>
  /** Newest first; `now` decides what is snoozed. */
  list(filter?: AlertFilter, now?: Date): Promise<Alert[]>
  /** Active and acknowledged alerts, oldest first. */
  open(): Promise<Alert[]>
  /** Every transition and human action, oldest first. */
  history(filter?: { alertId?: string; deviceId?: string; limit?: number }): Promise<AlertHistoryEntry[]>
  /**
   * Applies one batch of the rule engine in a single transaction: alerts, their history,
   * the rule states and the reader's checkpoint move together or not at all, so a crash
   * replays the batch from the old checkpoint against the old states. Returns what changed.
   */
  commitBatch(batch: EngineBatch): Promise<AlertChange[]>
  /** What the engine needs to resume: its checkpoint (null before the first batch) and every device's state. */
  loadEngine(reader: string): Promise<{ checkpoint: Checkpoint | null; states: Map<string, string> }>
  /** These devices' saved rule states (JSON), as last committed: cluster mode reads another node's partitions with it. */
  statesOf(deviceIds: readonly string[]): Promise<Map<string, string>>
}

/** Raises and clears in reading-time order, so a rule that raised and cleared within one batch ends cleared. */
function transitions(b: EngineBatch) {
  const all = [
    ...b.raise.map((input) => ({ at: input.ts, order: 0, raise: input, clear: undefined })),
    ...b.clear.map((input) => ({ at: input.at, order: 1, raise: undefined, clear: input })),
  ]
  return all.sort((x, y) => x.at - y.at || x.order - y.order)
}

export function createAlertStore(db: Db): AlertStore {
  const byId = (id: string) => db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst()

  return {
    escalate: (id, to, at) => db.transaction().execute((trx) => escalateIn(trx, id, to, at)),
    async raise(input, actor = SYSTEM_ACTOR) {
      const row = await db.transaction().execute((trx) => raiseIn(trx, input, actor))
      return row ? toAlert(row) : null
    },
    async clear(input, actor = SYSTEM_ACTOR) {
      const row = await db.transaction().execute((trx) => clearIn(trx, input, actor))
      return row ? toAlert(row) : null
    },
    async command(id, command, actor, at) {
      return db.transaction().execute((trx) => commandIn(trx, id, command, actor, at))
    },
    async acknowledge(id, by, at, comment) {
      const r = await db.transaction().execute((trx) => commandIn(trx, id, { command: 'acknowledge', comment }, by, at))
      if (r.ok) return r.alert
      return r.code === 'NOT_FOUND' ? null : 'not-open'
    },
    async get(id) {
      const row = await byId(id)
      return row ? toAlert(row) : null
    },
    async list(f = {}, now = new Date()) {
      let q = db.selectFrom('alerts').selectAll()
      if (f.status === 'open') q = q.where('status', 'in', OPEN_STATUSES)
      else if (f.status) q = q.where('status', '=', f.status)
      if (f.deviceId) q = q.where('device_id', '=', f.deviceId)
      if (f.site) q = q.where('site', '=', f.site)
      if (f.ruleId) q = q.where('rule_id', '=', f.ruleId)
      if (f.incidentId) q = q.where('incident_id', '=', f.incidentId)
      if (f.assignedTo) q = q.where('assigned_to', '=', f.assignedTo)
      if (f.snoozed === true) q = q.where('snoozed_until', '>', now.toISOString())
      if (f.snoozed === false) q = q.where((eb) => eb.or([eb('snoozed_until', 'is', null), eb('snoozed_until', '<=', now.toISOString())]))
      if (f.visible) {
        const visible = visibleWhere(f.visible, 'device_type')
        if (!visible) return []
        q = q.where(visible)
      }
      const before = f.before
      if (before)
        q = q.where((eb) =>
          eb.or([eb('raised_ts', '<', before.raisedTs), eb.and([eb('raised_ts', '=', before.raisedTs), eb('id', '<', before.id)])]),
        )
      // The id breaks ties, so a page boundary inside one reading time neither skips nor repeats an alert.
      const rows = await q
        .orderBy('raised_ts', 'desc')
        .orderBy('id', 'desc')
        .limit(Math.min(f.limit ?? 100, 1000))
        .execute()
      return rows.map(toAlert)
    },
    async open() {
      const rows = await db.selectFrom('alerts').selectAll().where('status', 'in', OPEN_STATUSES).orderBy('raised_ts').execute()
      return rows.map(toAlert)
    },
    async history(f = {}) {
      let q = db.selectFrom('alert_history').selectAll()
      if (f.alertId) q = q.where('alert_id', '=', f.alertId)
      if (f.deviceId) q = q.where('device_id', '=', f.deviceId)
      const rows = await q
        .orderBy('id')
        .limit(Math.min(f.limit ?? 1000, 10_000))
        .execute()
      return rows.map(toEntry)
    },
    async commitBatch(b) {
      return db.transaction().execute(async (trx) => {
        await checkFence(trx, b.reader, b.fence)
        const changes: AlertChange[] = []
        for (const t of transitions(b)) {
          const row = t.raise ? await raiseIn(trx, t.raise, SYSTEM_ACTOR) : await clearIn(trx, t.clear!, SYSTEM_ACTOR)
          if (row) changes.push({ action: t.raise ? 'raised' : 'cleared', alert: toAlert(row) })
        }
        // PostgreSQL refuses to upsert one key twice in a statement; keep each device's last state.
        const states = [...new Map(b.states.map(([k, v]) => [k, v] as const))].map(([device_id, state]) => ({ device_id, state }))
        // Chunks stay far below SQLite's limit on bound parameters.
        for (let i = 0; i < states.length; i += 500) {
          await trx
            .insertInto('alert_state')
            .values(states.slice(i, i + 500))
            .onConflict((oc) => oc.column('device_id').doUpdateSet((eb) => ({ state: eb.ref('excluded.state') })))
            .execute()
        }
        if (b.checkpoint) await writeCheckpoint(trx, b.reader, b.checkpoint)
        return changes
      })
    },
    async loadEngine(reader) {
      const checkpoint = await readCheckpoint(db, reader)
      const rows = await db.selectFrom('alert_state').select(['device_id', 'state']).execute()
      return { checkpoint, states: new Map(rows.map((r) => [r.device_id, r.state])) }
    },
    async statesOf(deviceIds) {
      const out = new Map<string, string>()
      // In slices: SQLite binds at most 32,766 values a statement.
      for (let i = 0; i < deviceIds.length; i += 1_000) {
        const rows = await db
          .selectFrom('alert_state')
          .select(['device_id', 'state'])
          .where('device_id', 'in', deviceIds.slice(i, i + 1_000))
          .execute()
        for (const r of rows) out.set(r.device_id, r.state)
      }
      return out
    },
  }
}
