import type { Kysely, Selectable } from 'kysely'
import { type ContractorRequest, type ContractorStatus, contractorSummary } from '#devices'
import type { Database, Iso } from './schema.ts'

export interface Open311RequestsTable {
  alert_id: string
  service_code: string
  service_request_id: string | null
  token: string | null
  status: ContractorStatus
  status_notes: string | null
  agency_responsible: string | null
  updated_at: string | null
  submitted_at: Iso
  checked_at: Iso | null
  checked_ms: number
}

/** Tables this store owns; schema.ts's Database extends it. */
export type Open311Tables = { open311_requests: Open311RequestsTable }

export interface SubmittedRequest {
  alertId: string
  serviceCode: string
  serviceRequestId: string | null
  token: string | null
}

/** What a poll learnt of one request. */
export interface RequestUpdate {
  serviceRequestId?: string | undefined
  status?: ContractorStatus | undefined
  statusNotes?: string | null | undefined
  agencyResponsible?: string | null | undefined
  updatedAt?: string | null | undefined
}

export type DueRequest = ContractorRequest & { token: string | null }

export interface Open311Store {
  /** Keeps the request made for an alert; false when one is kept already (a retry after a crash). */
  submitted(r: SubmittedRequest, at?: Date): Promise<boolean>
  forAlert(alertId: string): Promise<ContractorRequest | undefined>
  /** Requests still open (or awaiting an id), checked longest ago first, with the token to ask for an id by. */
  toCheck(limit: number): Promise<DueRequest[]>
  /** Records a poll; true when what the alert shows changed. */
  checked(alertId: string, u: RequestUpdate, at?: Date): Promise<boolean>
}

const toRequest = (r: Selectable<Open311RequestsTable>): ContractorRequest => {
  const base = {
    alertId: r.alert_id,
    system: 'open311' as const,
    serviceCode: r.service_code,
    serviceRequestId: r.service_request_id,
    status: r.status,
    statusNotes: r.status_notes,
    agencyResponsible: r.agency_responsible,
    updatedAt: r.updated_at,
    submittedAt: r.submitted_at,
    checkedAt: r.checked_at,
  }
  return { ...base, summary: contractorSummary(base) }
}

export function createOpen311Store(db: Kysely<Database>): Open311Store {
  const get = async (alertId: string) => db.selectFrom('open311_requests').selectAll().where('alert_id', '=', alertId).executeTakeFirst()
  return {
    async submitted(r, at = new Date()) {
      const res = await db
        .insertInto('open311_requests')
        .values({
          alert_id: r.alertId,
          service_code: r.serviceCode,
          service_request_id: r.serviceRequestId,
          token: r.token,
          status: r.serviceRequestId === null ? 'awaiting-id' : 'open',
          status_notes: null,
          agency_responsible: null,
          updated_at: null,
          submitted_at: at.toISOString(),
          checked_at: null,
          checked_ms: at.getTime(),
        })
        .onConflict((oc) => oc.column('alert_id').doNothing())
        .executeTakeFirst()
      return Number(res.numInsertedOrUpdatedRows ?? 0) > 0
    },
    async forAlert(alertId) {
      const r = await get(alertId)
      return r && toRequest(r)
    },
    async toCheck(limit) {
      const rows = await db
        .selectFrom('open311_requests')
        .selectAll()
        .where('status', '!=', 'closed')
        .orderBy('checked_ms')
        .orderBy('alert_id')
        .limit(limit)
        .execute()
      return rows.map((r) => ({ ...toRequest(r), token: r.token }))
    },
    async checked(alertId, u, at = new Date()) {
      const before = await get(alertId)
      if (!before) return false
      const next = {
        service_request_id: u.serviceRequestId ?? before.service_request_id,
        status: u.status ?? before.status,
        status_notes: u.statusNotes === undefined ? before.status_notes : u.statusNotes,
        agency_responsible: u.agencyResponsible === undefined ? before.agency_responsible : u.agencyResponsible,
        updated_at: u.updatedAt === undefined ? before.updated_at : u.updatedAt,
      }
      await db
        .updateTable('open311_requests')
        .set({ ...next, checked_at: at.toISOString(), checked_ms: at.getTime() })
        .where('alert_id', '=', alertId)
        .execute()
      return (Object.keys(next) as (keyof typeof next)[]).some((k) => next[k] !== before[k])
    },
  }
}
