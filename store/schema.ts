import type { ColumnType, Generated } from 'kysely'
import type { Alert, AlertHistoryEntry, Device } from '#devices'
import type { AreaTables } from './area-store.ts'
import type { AuditLogTable } from './audit-store.ts'
import type { CaseTables } from './case-store.ts'
import type { OpenDataTables } from './open-data-store.ts'
import type { Open311Tables } from './open311-store.ts'
import type { OutboxTables } from './outbox-store.ts'
import type { OverrideTables } from './override-store.ts'
import type { PeopleTables } from './people-store.ts'
import type { PushTables } from './push-store.ts'
import type { RoundTables } from './round-store.ts'
import type { SessionsTable } from './session-store.ts'
import type { ApiTokensTable } from './token-store.ts'
import type { TtsTables } from './tts-store.ts'
import type { WebhookTables } from './webhook-store.ts'

/**
 * ISO-8601 UTC text. SQLite keeps it as text; PostgreSQL as timestamptz, which the
 * pool's type parser (db.ts) turns back into the same ISO text, so callers see one type.
 */
export type Iso = string
/** JSON text on SQLite, jsonb on PostgreSQL. Written as JSON text on both (a JS array would bind as a PG array); read as string or parsed value. */
export type Json = ColumnType<unknown, string, string>
/** Integer ids and epoch-ms fit in 2^53; int8 arrives as a number thanks to the pool's type parser. */
type AutoId = Generated<number>

export interface DevicesTable {
  id: string
  type: Device['type']
  name: string
  site: string
  latitude: number | null
  longitude: number | null
  uprn: string | null
  interval_s: number
  secret_hmac: Buffer
  created_at: Iso
  revoked_at: Iso | null
  presence: Generated<Device['presence']>
  last_seen: Iso | null
}

export interface AlertsTable {
  id: string
  device_id: string
  device_type: string
  site: string
  rule_id: string
  title: string
  severity: Alert['severity']
  status: Alert['status']
  value: number
  /** Reading time that raised the alert, epoch ms: part of the idempotency key (device, rule, time). */
  raised_ts: number
  acknowledged_at: Iso | null
  acknowledged_by: string | null
  cleared_at: Iso | null
  text: string | null
  detail: Json | null
  acknowledged_comment: string | null
  assigned_to: string | null
  snoozed_until: Iso | null
  resolved_at: Iso | null
  resolved_by: string | null
  resolved_note: string | null
  /** Reading time that last reopened a resolved alert, epoch ms: unique per (device, rule) like raised_ts, so a replay reopens nothing twice. */
  reopened_ts: number | null
  /** The incident (site silent together) this offline alert is grouped under. */
  incident_id: Generated<string | null>
}

export interface QuarantineTable {
  id: AutoId
  received_at: Iso
  device_id: string | null
  topic: string
  code: string
  reason: string
  issues: Json
  payload: Buffer
}

export interface SecretsTable {
  name: string
  value: Buffer
}

export type AlertAction = AlertHistoryEntry['action']

export interface AlertHistoryTable {
  id: AutoId
  alert_id: string
  device_id: string
  rule_id: string
  action: AlertAction
  at: Iso
  actor: string
  value: number | null
  from_status: Alert['status'] | null
  to_status: Alert['status'] | null
  note: string | null
  assigned_to: string | null
  snoozed_until: Iso | null
  detail: Json | null
}

export interface AlertStateTable {
  device_id: string
  /** The rule engine's per-device state as JSON text. Plain text on both dialects: the store never looks inside, and it comes back byte for byte. */
  state: string
}

export interface ReaderFencesTable {
  reader: string
  epoch: number
  updated_at: Iso
}

export interface ReaderCheckpointsTable {
  reader: string
  segment: number
  offset: number
  updated_at: Iso
}

export interface IncidentsTable {
  id: string
  site: string
  kind: 'site-silent'
  title: string
  status: 'open' | 'cleared'
  opened_at: Iso
  cleared_at: Iso | null
  devices: number
  silent: number
}

export interface Database
  extends CaseTables,
    OpenDataTables,
    OverrideTables,
    RoundTables,
    AreaTables,
    PeopleTables,
    TtsTables,
    OutboxTables,
    Open311Tables,
    PushTables,
    WebhookTables {
  sessions: SessionsTable
  api_tokens: ApiTokensTable
  audit_log: AuditLogTable
  incidents: IncidentsTable
  devices: DevicesTable
  alerts: AlertsTable
  quarantine: QuarantineTable
  secrets: SecretsTable
  alert_history: AlertHistoryTable
  alert_state: AlertStateTable
  reader_checkpoints: ReaderCheckpointsTable
  reader_fences: ReaderFencesTable
}
