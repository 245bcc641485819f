import { randomUUID } from 'node:crypto'
import type { Kysely, Selectable, Updateable } from 'kysely'
import {
  type Alert,
  type AlertDetail,
  type AlertHistoryEntry,
  type AlertStatus,
  canApply,
  type PersonAction,
  REOPEN_WITHIN_MS,
  refusal,
  type Severity,
} from '#devices'
// The engine defines what it needs of the store (its port); the store implements it.
import type { ClearInput, RaiseInput } from '../alerts/engine.ts'
import type { AlertAction, AlertHistoryTable, AlertsTable, Database } from './schema.ts'

export type { ClearInput, RaiseInput }

// The single-alert writes shared by the alert store's own methods and its engine batch; each runs inside the caller's transaction.

/** Who acted, in the history, when no person did: the rule engine. */
export const SYSTEM_ACTOR = 'system'

export type Row = Selectable<AlertsTable>
export type Db = Kysely<Database>

/** JSON columns come back as text from SQLite and parsed from PostgreSQL's jsonb. */
const detailOf = (v: unknown): AlertDetail | null => (v == null ? null : ((typeof v === 'string' ? JSON.parse(v) : v) as AlertDetail))
const iso = (ms: number) => new Date(ms).toISOString()

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
  text: r.text,
  detail: detailOf(r.detail),
  raisedAt: iso(r.raised_ts),
  acknowledgedAt: r.acknowledged_at,
  acknowledgedBy: r.acknowledged_by,
  acknowledgedComment: r.acknowledged_comment,
  assignedTo: r.assigned_to,
  snoozedUntil: r.snoozed_until,
  resolvedAt: r.resolved_at,
  resolvedBy: r.resolved_by,
  resolvedNote: r.resolved_note,
  clearedAt: r.cleared_at,
  incidentId: r.incident_id ?? null,
})

export const toEntry = (r: Selectable<AlertHistoryTable>): AlertHistoryEntry => ({
  alertId: r.alert_id,
  deviceId: r.device_id,
  ruleId: r.rule_id,
  action: r.action,
  at: r.at,
  actor: r.actor,
  value: r.value,
  from: r.from_status,
  to: r.to_status,
  note: r.note,
  assignedTo: r.assigned_to,
  snoozedUntil: r.snoozed_until,
  detail: detailOf(r.detail),
})

interface EntryFields {
  from: AlertStatus | null
  to: AlertStatus
  value?: number | null | undefined
  note?: string | null | undefined
  assignedTo?: string | null | undefined
  snoozedUntil?: string | null | undefined
  detail?: Readonly<AlertDetail> | null | undefined
}

export async function record(db: Db, a: Row, action: AlertAction, at: string, actor: string, e: EntryFields): Promise<AlertHistoryEntry> {
  const row = await db
    .insertInto('alert_history')
    .values({
      ...{ alert_id: a.id, device_id: a.device_id, rule_id: a.rule_id, action, at, actor },
      ...{ value: e.value ?? null, from_status: e.from, to_status: e.to, note: e.note ?? null },
      ...{ assigned_to: e.assignedTo ?? null, snoozed_until: e.snoozedUntil ?? null, detail: e.detail ? JSON.stringify(e.detail) : null },
    })
    .returningAll()
    .executeTakeFirstOrThrow()
  return toEntry(row)
}

/** An alert that becomes active again forgets who acknowledged and resolved it; its history keeps both. */
const FORGET_HANDLING = {
  acknowledged_at: null,
  acknowledged_by: null,
  acknowledged_comment: null,
  resolved_at: null,
  resolved_by: null,
  resolved_note: null,
} as const

/**
 * Stores what the engine raised: a new alert, or the reopened resolved alert of the same
 * (device, rule) when it was resolved within REOPEN_WITHIN_MS of this reading. Undefined
 * when this (device, rule, reading time) already raised or reopened one (a redelivery).
 */
export async function raiseIn(db: Db, a: RaiseInput, actor: string): Promise<Row | undefined> {
  const seen = await db
    .selectFrom('alerts')
    .select('id')
    .where('device_id', '=', a.deviceId)
    .where('rule_id', '=', a.rule.id)
    .where((eb) => eb.or([eb('raised_ts', '=', a.ts), eb('reopened_ts', '=', a.ts)]))
    .executeTakeFirst()
  if (seen) return undefined
  // reopened_ts holds only the latest reopening; an earlier one is found in the history.
  const reopened = await db
    .selectFrom('alert_history')
    .select('id')
    .where('device_id', '=', a.deviceId)
    .where('rule_id', '=', a.rule.id)
    .where('at', '=', iso(a.ts))
    .where('action', '=', 'reopened')
    .where('actor', '=', actor)
    .executeTakeFirst()
  if (reopened) return undefined
  const text = a.rule.text ?? null
  const detail = a.detail ? JSON.stringify(a.detail) : null
  const newest = await db
    .selectFrom('alerts')
    .selectAll()
    .where('device_id', '=', a.deviceId)
    .where('rule_id', '=', a.rule.id)
    .orderBy('raised_ts', 'desc')
    .limit(1)
    .executeTakeFirst()
  // Measured in reading time, so a replay decides as the first run did.
  if (newest?.status === 'resolved' && newest.resolved_at && a.ts - Date.parse(newest.resolved_at) <= REOPEN_WITHIN_MS) {
    const row = await db
      .updateTable('alerts')
      .set({
        ...{ status: 'active', reopened_ts: a.ts, value: a.value, title: a.rule.title, severity: a.rule.severity, text, detail },
        // The condition is back: the next data clear is of this occurrence, and the earlier acknowledgement and resolution are history.
        ...{ cleared_at: null, ...FORGET_HANDLING },
      })
      .where('id', '=', newest.id)
      .where('status', '=', 'resolved')
      .returningAll()
      .executeTakeFirst()
    if (row) {
      await record(db, row, 'reopened', iso(a.ts), actor, { from: 'resolved', to: 'active', value: a.value, detail: a.detail })
      return row
    }
  }
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
      text,
      detail,
      ...(a.incidentId && { incident_id: a.incidentId }),
    })
    // The unique (device, rule, time) key turns a concurrent duplicate into a no-op, history included.
    .onConflict((oc) => oc.columns(['device_id', 'rule_id', 'raised_ts']).doNothing())
    .returningAll()
    .executeTakeFirst()
  if (row) await record(db, row, 'raised', iso(a.ts), actor, { from: null, to: 'active', value: a.value, detail: a.detail })
  return row
}

/** Reads the row, then updates it only if its status is still the one read (compare and set); tries again if a concurrent change won. */
async function compareAndSet<T>(find: () => Promise<Row | undefined>, change: (r: Row) => Promise<T | 'retry'>): Promise<T | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const r = await find()
    if (!r) return undefined
    const out = await change(r)
    if (out !== 'retry') return out
  }
  throw new Error('alert changed concurrently five times in a row')
}

/**
 * Ends the newest occurrence of (device, rule) the data has not cleared yet. An open alert
 * becomes `cleared`; a resolved one keeps its status (a person closed it) and gains clearedAt.
 */
export async function clearIn(db: Db, c: ClearInput, actor: string): Promise<Row | undefined> {
  const at = iso(c.at)
  return compareAndSet(
    () =>
      db
        .selectFrom('alerts')
        .selectAll()
        .where('device_id', '=', c.deviceId)
        .where('rule_id', '=', c.ruleId)
        .where('status', '!=', 'cleared')
        // A cleared alert a person reopened is theirs to resolve: the data already cleared it once.
        .where('cleared_at', 'is', null)
        .orderBy('raised_ts', 'desc')
        .limit(1)
        .executeTakeFirst(),
    async (open) => {
      const to: AlertStatus = open.status === 'resolved' ? 'resolved' : 'cleared'
      const row = await db
        .updateTable('alerts')
        // The rule's figures at the end (e.g. all the energy wasted overnight) replace those it raised with.
        .set({ status: to, cleared_at: at, ...(c.detail && { detail: JSON.stringify(c.detail) }) })
        .where('id', '=', open.id)
        .where('status', '=', open.status)
        .where('cleared_at', 'is', null)
        .returningAll()
        .executeTakeFirst()
      if (!row) return 'retry'
      await record(db, row, 'cleared', at, actor, { from: open.status, to, value: c.value, detail: c.detail })
      return row
    },
  )
}

/** What a person asks of an alert; bodies are validated by the API before they get here. */
export type Command =
  | { command: 'acknowledge'; comment?: string | undefined }
  | { command: 'assign'; to: string; note?: string | undefined }
  | { command: 'snooze'; until: Date; note?: string | undefined }
  | { command: 'unsnooze'; note?: string | undefined }
  | { command: 'resolve'; note: string }
  | { command: 'reopen'; note?: string | undefined }

export type CommandResult =
  | { ok: true; action: PersonAction; alert: Alert; entry: AlertHistoryEntry }
  | { ok: false; code: 'NOT_FOUND' | 'INVALID_TRANSITION'; message: string }

interface Plan {
  action: PersonAction
  to: AlertStatus
  note: string | null
  set: Updateable<AlertsTable>
  entry?: Pick<EntryFields, 'assignedTo' | 'snoozedUntil'>
}

function plan(c: Command, r: Row, at: string, actor: string): Plan | string {
  if (!canApply(c.command, r.status)) return refusal(c.command, r.status)
  switch (c.command) {
    case 'acknowledge':
      return {
        action: 'acknowledged',
        to: 'acknowledged',
        note: c.comment ?? null,
        set: { acknowledged_at: at, acknowledged_by: actor, acknowledged_comment: c.comment ?? null },
      }
    case 'assign':
      return { action: 'assigned', to: r.status, note: c.note ?? null, set: { assigned_to: c.to }, entry: { assignedTo: c.to } }
    case 'snooze': {
      const until = c.until.toISOString()
      return { action: 'snoozed', to: r.status, note: c.note ?? null, set: { snoozed_until: until }, entry: { snoozedUntil: until } }
    }
    case 'unsnooze':
      if (!r.snoozed_until || Date.parse(r.snoozed_until) <= Date.parse(at))
        return `cannot unsnooze an alert that is not snoozed${r.snoozed_until ? ` (its snooze ended at ${r.snoozed_until})` : ''}`
      return { action: 'unsnoozed', to: r.status, note: c.note ?? null, set: { snoozed_until: null } }
    case 'resolve':
      return { action: 'resolved', to: 'resolved', note: c.note, set: { resolved_at: at, resolved_by: actor, resolved_note: c.note } }
    case 'reopen':
      // clearedAt stays: it says the data cleared it, so the next data clear is not of this alert.
      return { action: 'reopened', to: 'active', note: c.note ?? null, set: { ...FORGET_HANDLING } }
  }
}

/** Applies a person's command, with its history entry, in the caller's transaction. */
export async function commandIn(db: Db, id: string, c: Command, actor: string, at: Date): Promise<CommandResult> {
  const when = at.toISOString()
  const out = await compareAndSet(
    () => db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst(),
    async (r): Promise<CommandResult | 'retry'> => {
      const p = plan(c, r, when, actor)
      if (typeof p === 'string') return { ok: false, code: 'INVALID_TRANSITION', message: p }
      const row = await db
        .updateTable('alerts')
        .set({ ...p.set, status: p.to })
        .where('id', '=', id)
        .where('status', '=', r.status)
        .returningAll()
        .executeTakeFirst()
      if (!row) return 'retry'
      const entry = await record(db, row, p.action, when, actor, { from: r.status, to: p.to, note: p.note, ...p.entry })
      return { ok: true, action: p.action, alert: toAlert(row), entry }
    },
  )
  return out ?? { ok: false, code: 'NOT_FOUND', message: `no alert ${id}` }
}

/**
 * Raises an active alert's severity (the rule's escalation: nobody acknowledged it in time).
 * Null when it is no longer active or already at that severity: acknowledging first stops it.
 */
export async function escalateIn(db: Db, id: string, to: Severity, at: number): Promise<{ alert: Alert; entry: AlertHistoryEntry } | null> {
  const row = await db
    .updateTable('alerts')
    .set({ severity: to })
    .where('id', '=', id)
    .where('status', '=', 'active')
    .where('severity', '!=', to)
    .returningAll()
    .executeTakeFirst()
  if (!row) return null
  const entry = await record(db, row, 'escalated', iso(at), SYSTEM_ACTOR, {
    from: 'active',
    to: 'active',
    note: `not acknowledged in time: severity raised to ${to}`,
  })
  return { alert: toAlert(row), entry }
}
