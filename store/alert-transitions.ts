import { randomUUID } from 'node:crypto'
import type { Kysely, Selectable } from 'kysely'
import type { Alert } from '#devices'
// The engine defines what it needs of the store (its port); the store implements it.
import type { ClearInput, RaiseInput } from '../alerts/engine.ts'
import type { AlertAction, AlertsTable, Database } from './schema.ts'

export type { ClearInput, RaiseInput }

// The single-alert writes shared by the alert store's own methods and its engine batch; each runs inside the caller's transaction.

/** Who acted, in the history, when no person did: the rule engine. */
export const SYSTEM_ACTOR = 'system'

export type Row = Selectable<AlertsTable>

export const toAlert = (r: Row): Alert => ({
  id: r.id,
  deviceId: r.device_id,
  deviceType: r.device_type,
  site: r.site,
  ruleId: r.rule_id,
  title: r.title,
  severity: r.severity,
  status: r.status,
  value: r.value,
  raisedAt: new Date(r.raised_ts).toISOString(),
  acknowledgedAt: r.acknowledged_at,
  acknowledgedBy: r.acknowledged_by,
  clearedAt: r.cleared_at,
})

export type Db = Kysely<Database>

export async function record(db: Db, a: Row, action: AlertAction, at: string, actor: string, value: number | null): Promise<void> {
  await db
    .insertInto('alert_history')
    .values({ alert_id: a.id, device_id: a.device_id, rule_id: a.rule_id, action, at, actor, value })
    .execute()
}

export async function raiseIn(db: Db, a: RaiseInput, actor: string): Promise<Row | undefined> {
  const row = await db
    .insertInto('alerts')
    .values({
      id: randomUUID(),
      device_id: a.deviceId,
      device_type: a.deviceType,
      site: a.site,
      rule_id: a.rule.id,
      title: a.rule.title,
      severity: a.rule.severity,
      status: 'active',
      value: a.value,
      raised_ts: a.ts,
    })
    // The unique (device, rule, time) key turns a redelivered reading into a no-op, history included.
    .onConflict((oc) => oc.columns(['device_id', 'rule_id', 'raised_ts']).doNothing())
    .returningAll()
    .executeTakeFirst()
  if (row) await record(db, row, 'raised', new Date(a.ts).toISOString(), actor, a.value)
  return row
}

export async function clearIn(db: Db, c: ClearInput, actor: string): Promise<Row | undefined> {
  const open = await db
    .selectFrom('alerts')
    .select('id')
    .where('device_id', '=', c.deviceId)
    .where('rule_id', '=', c.ruleId)
    .where('status', '!=', 'cleared')
    .orderBy('raised_ts', 'desc')
    .limit(1)
    .executeTakeFirst()
  if (!open) return undefined
  const at = new Date(c.at).toISOString()
  // Status guard again: a concurrent clear of the same alert (PostgreSQL) must not clear it twice.
  const row = await db
    .updateTable('alerts')
    .set({ status: 'cleared', cleared_at: at })
    .where('id', '=', open.id)
    .where('status', '!=', 'cleared')
    .returningAll()
    .executeTakeFirst()
  if (row) await record(db, row, 'cleared', at, actor, c.value ?? null)
  return row
}
