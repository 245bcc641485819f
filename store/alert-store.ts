import type { Alert, AlertHistoryEntry } from '#devices'
import type { AlertChange, AlertEngineStore, EngineBatch } from '../alerts/engine.ts'
import { type ClearInput, clearIn, type Db, type RaiseInput, raiseIn, record, SYSTEM_ACTOR, toAlert } from './alert-transitions.ts'
import { type Checkpoint, readCheckpoint, writeCheckpoint } from './checkpoint-store.ts'

export { type ClearInput, type RaiseInput, SYSTEM_ACTOR } from './alert-transitions.ts'

export interface AlertFilter {
  status?: Alert['status'] | 'open'
  deviceId?: string
  site?: string
  limit?: number
}

export type { AlertChange, EngineBatch }

/** The engine's port, plus what the API does with alerts. */
export interface AlertStore extends AlertEngineStore {
  /** Stores a raised alert; null when this (device, rule, reading time) was already raised (a redelivery). */
  raise(input: RaiseInput, actor?: string): Promise<Alert | null>
  /** Clears the open alert of (device, rule); null when none is open. */
  clear(input: ClearInput, actor?: string): Promise<Alert | null>
  acknowledge(id: string, by: string, at: Date): Promise<Alert | null | 'not-open'>
  get(id: string): Promise<Alert | null>
  list(filter?: AlertFilter): Promise<Alert[]>
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
    async raise(input, actor = SYSTEM_ACTOR) {
      const row = await db.transaction().execute((trx) => raiseIn(trx, input, actor))
      return row ? toAlert(row) : null
    },
    async clear(input, actor = SYSTEM_ACTOR) {
      const row = await db.transaction().execute((trx) => clearIn(trx, input, actor))
      return row ? toAlert(row) : null
    },
    async acknowledge(id, by, at) {
      return db.transaction().execute(async (trx) => {
        const row = await trx
          .updateTable('alerts')
          .set({ status: 'acknowledged', acknowledged_at: at.toISOString(), acknowledged_by: by })
          .where('id', '=', id)
          .where('status', '=', 'active')
          .returningAll()
          .executeTakeFirst()
        if (!row) return (await trx.selectFrom('alerts').select('id').where('id', '=', id).executeTakeFirst()) ? 'not-open' : null
        await record(trx, row, 'acknowledged', at.toISOString(), by, null)
        return toAlert(row)
      })
    },
    async get(id) {
      const row = await byId(id)
      return row ? toAlert(row) : null
    },
    async list(f = {}) {
      let q = db.selectFrom('alerts').selectAll()
      if (f.status === 'open') q = q.where('status', '!=', 'cleared')
      else if (f.status) q = q.where('status', '=', f.status)
      if (f.deviceId) q = q.where('device_id', '=', f.deviceId)
      if (f.site) q = q.where('site', '=', f.site)
      const rows = await q
        .orderBy('raised_ts', 'desc')
        .limit(Math.min(f.limit ?? 100, 1000))
        .execute()
      return rows.map(toAlert)
    },
    async open() {
      const rows = await db.selectFrom('alerts').selectAll().where('status', '!=', 'cleared').orderBy('raised_ts').execute()
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
      return rows.map((r) => ({
        alertId: r.alert_id,
        deviceId: r.device_id,
        ruleId: r.rule_id,
        action: r.action,
        at: r.at,
        actor: r.actor,
        value: r.value,
      }))
    },
    async commitBatch(b) {
      return db.transaction().execute(async (trx) => {
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
        await writeCheckpoint(trx, b.reader, b.checkpoint)
        return changes
      })
    },
    async loadEngine(reader) {
      const checkpoint = await readCheckpoint(db, reader)
      const rows = await db.selectFrom('alert_state').select(['device_id', 'state']).execute()
      return { checkpoint, states: new Map(rows.map((r) => [r.device_id, r.state])) }
    },
  }
}
