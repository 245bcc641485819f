import { randomUUID } from 'node:crypto'
import type { Generated, Kysely, Selectable } from 'kysely'
import {
  AwaabCase,
  type CaseEvent,
  type CaseEventKind,
  type CaseEvidence,
  type CaseRecord,
  type CaseState,
  type CaseStep,
  FINAL_CASE_STATES,
  type HazardCategory,
  type TransitionResult,
} from '#devices'
import type { Database, Iso } from './schema.ts'

export interface CasesTable {
  id: string
  alert_id: string | null
  device_id: string | null
  site: string | null
  category: HazardCategory
  hazard: string
  state: CaseState
  triaged_at: Iso
  preventative_required: number
  hazard_found: number | null
  investigated_at: Iso | null
  summary_sent_at: Iso | null
  made_safe_at: Iso | null
  preventative_begun_at: Iso | null
  preventative_on_site_at: Iso | null
  created_by: string
  created_at: Iso
  updated_at: Iso
  version: number
}

export interface CaseEventsTable {
  id: Generated<number>
  case_id: string
  at: Iso
  recorded_at: Iso
  actor: string
  kind: CaseEventKind
  step: CaseStep | null
  from_state: CaseState | null
  to_state: CaseState | null
  note: string | null
  evidence_description: string | null
  evidence_reference: string | null
}

/** Tables this store owns; schema.ts's Database extends it. */
export type CaseTables = {
  cases: CasesTable
  case_events: CaseEventsTable
}

export interface NewCase {
  alertId: string | null
  deviceId: string | null
  site: string | null
  category: HazardCategory
  hazard: string
  /** Epoch ms; the clocks start here. */
  triagedAt: number
  preventativeRequired: boolean
  createdBy: string
  /** Epoch ms the case was entered (the opening event's recorded time). */
  now: number
  note?: string | undefined
}

/** What a person adds to the trail alongside a change; `from`/`to` come from the change itself. */
export interface NewCaseEvent {
  /** Epoch ms it happened. */
  at: number
  /** Epoch ms it was entered. */
  recordedAt: number
  actor: string
  kind: CaseEventKind
  step?: CaseStep | undefined
  note?: string | undefined
  evidence?: CaseEvidence | undefined
}

export interface CaseFilter {
  state?: CaseState | undefined
  /** Only cases not yet closed or cancelled. */
  open?: boolean | undefined
  site?: string | undefined
  deviceId?: string | undefined
  alertId?: string | undefined
  /**
   * Only cases at one of these sites whose device, if it is still provisioned, is at one of them
   * too: what a caller whose housing grants cover these sites may see. Empty matches nothing.
   */
  sites?: readonly string[] | undefined
  limit?: number | undefined
}

export type CreateCaseResult = { ok: true; record: CaseRecord } | { ok: false; code: 'CONFLICT'; openCaseId: string | null }
export type UpdateCaseResult =
  | { ok: true; record: CaseRecord }
  | { ok: false; code: 'NOT_FOUND' }
  | { ok: false; code: 'CONFLICT'; reason: string }

export interface CaseStore {
  /** Opens a case and its first trail entry; refused while another case of the same alert is open. */
  create(input: NewCase): Promise<CreateCaseResult>
  get(id: string): Promise<CaseRecord | null>
  /** Newest triage first (then newest entered). */
  list(filter?: CaseFilter): Promise<CaseRecord[]>
  /** The open (not closed or cancelled) case of an alert, if any. */
  openCaseOfAlert(alertId: string): Promise<CaseRecord | null>
  /**
   * Applies a pure change (a step, a transition) to the case as it is now and records it in
   * the trail, together: the trail never shows a change the case does not have, or the reverse.
   */
  update(id: string, change: (c: AwaabCase) => TransitionResult, event: NewCaseEvent): Promise<UpdateCaseResult>
  /** Adds a note or evidence without changing the case; null when there is no such case. */
  addEvent(caseId: string, event: NewCaseEvent): Promise<CaseEvent | null>
  /** The trail in the order it was entered. */
  events(caseId: string): Promise<CaseEvent[]>
}

/** Retries of an update that lost a race; each retry re-reads the case, so a real refusal still comes out as one. */
const UPDATE_ATTEMPTS = 5

type CaseRow = Selectable<CasesTable>
type EventRow = Selectable<CaseEventsTable>
type Db = Kysely<Database>

const iso = (ms: number) => new Date(ms).toISOString()
const msOf = (t: Iso | null) => (t === null ? undefined : Date.parse(t))
const flag = (b: boolean | undefined) => (b === undefined ? null : b ? 1 : 0)

function toRecord(r: CaseRow): CaseRecord {
  const c: AwaabCase = {
    id: r.id,
    category: r.category,
    hazard: r.hazard,
    triagedAt: Date.parse(r.triaged_at),
    state: r.state,
    steps: {},
    preventativeRequired: r.preventative_required === 1,
  }
  const steps = {
    investigated: msOf(r.investigated_at),
    summarySent: msOf(r.summary_sent_at),
    madeSafe: msOf(r.made_safe_at),
    preventativeBegun: msOf(r.preventative_begun_at),
    preventativeOnSite: msOf(r.preventative_on_site_at),
  }
  for (const [k, v] of Object.entries(steps)) if (v !== undefined) c.steps[k as CaseStep] = v
  if (r.hazard_found !== null) c.hazardFound = r.hazard_found === 1
  if (r.alert_id !== null) c.sourceAlertId = r.alert_id
  return { case: c, deviceId: r.device_id, site: r.site, createdBy: r.created_by, createdAt: r.created_at, updatedAt: r.updated_at }
}

/** The columns a change to the domain case writes. */
function factsOf(c: AwaabCase) {
  const at = (ms: number | undefined) => (ms === undefined ? null : iso(ms))
  return {
    state: c.state,
    hazard_found: flag(c.hazardFound),
    investigated_at: at(c.steps.investigated),
    summary_sent_at: at(c.steps.summarySent),
    made_safe_at: at(c.steps.madeSafe),
    preventative_begun_at: at(c.steps.preventativeBegun),
    preventative_on_site_at: at(c.steps.preventativeOnSite),
  }
}

function toEvent(r: EventRow): CaseEvent {
  return {
    id: r.id,
    caseId: r.case_id,
    at: r.at,
    recordedAt: r.recorded_at,
    actor: r.actor,
    kind: r.kind,
    step: r.step,
    from: r.from_state,
    to: r.to_state,
    note: r.note,
    evidence:
      r.evidence_description !== null && r.evidence_reference !== null
        ? { description: r.evidence_description, reference: r.evidence_reference }
        : null,
  }
}

async function insertEvent(db: Db, caseId: string, e: NewCaseEvent, from: CaseState | null, to: CaseState | null): Promise<CaseEvent> {
  const row = await db
    .insertInto('case_events')
    .values({
      case_id: caseId,
      at: iso(e.at),
      recorded_at: iso(e.recordedAt),
      actor: e.actor,
      kind: e.kind,
      step: e.step ?? null,
      from_state: from,
      to_state: to,
      note: e.note ?? null,
      evidence_description: e.evidence?.description ?? null,
      evidence_reference: e.evidence?.reference ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow()
  return toEvent(row)
}

export function createCaseStore(db: Db): CaseStore {
  const byId = (q: Db, id: string) => q.selectFrom('cases').selectAll().where('id', '=', id).executeTakeFirst()
  const openOf = (q: Db, alertId: string) =>
    q.selectFrom('cases').selectAll().where('alert_id', '=', alertId).where('state', 'not in', FINAL_CASE_STATES).executeTakeFirst()

  return {
    async create(input) {
      // The domain schema refuses what the law does not cover (before 27 Oct 2025) and malformed hazards.
      const c = AwaabCase.parse({
        id: randomUUID(),
        category: input.category,
        hazard: input.hazard,
        triagedAt: input.triagedAt,
        state: 'open',
        preventativeRequired: input.preventativeRequired,
        ...(input.alertId ? { sourceAlertId: input.alertId } : {}),
      })
      const now = iso(input.now)
      return db.transaction().execute(async (trx): Promise<CreateCaseResult> => {
        const row = await trx
          .insertInto('cases')
          .values({
            id: c.id,
            alert_id: input.alertId,
            device_id: input.deviceId,
            site: input.site,
            category: c.category,
            hazard: c.hazard,
            ...factsOf(c),
            triaged_at: iso(c.triagedAt),
            preventative_required: c.preventativeRequired ? 1 : 0,
            created_by: input.createdBy,
            created_at: now,
            updated_at: now,
            version: 0,
          })
          // The id is fresh, so only the one-open-case-per-alert index can conflict.
          .onConflict((oc) => oc.doNothing())
          .returningAll()
          .executeTakeFirst()
        if (!row) {
          const open = input.alertId ? await openOf(trx, input.alertId) : undefined
          return { ok: false, code: 'CONFLICT', openCaseId: open?.id ?? null }
        }
        const opened = { at: c.triagedAt, recordedAt: input.now, actor: input.createdBy, kind: 'opened' as const, note: input.note }
        await insertEvent(trx, c.id, opened, null, 'open')
        return { ok: true, record: toRecord(row) }
      })
    },

    async get(id) {
      const row = await byId(db, id)
      return row ? toRecord(row) : null
    },

    async list(f = {}) {
      let q = db.selectFrom('cases').selectAll()
      if (f.state) q = q.where('state', '=', f.state)
      if (f.open) q = q.where('state', 'not in', FINAL_CASE_STATES)
      if (f.site) q = q.where('site', '=', f.site)
      if (f.deviceId) q = q.where('device_id', '=', f.deviceId)
      if (f.alertId) q = q.where('alert_id', '=', f.alertId)
      if (f.sites) {
        const sites = f.sites
        if (sites.length === 0) return []
        q = q
          .where('site', 'in', sites)
          .where(({ not, exists, selectFrom }) =>
            not(
              exists(
                selectFrom('devices as d')
                  .select('d.id')
                  .whereRef('d.id', '=', 'cases.device_id')
                  .where('d.revoked_at', 'is', null)
                  .where('d.site', 'not in', sites),
              ),
            ),
          )
      }
      const rows = await q
        .orderBy('triaged_at', 'desc')
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .limit(Math.min(f.limit ?? 100, 10_000))
        .execute()
      return rows.map(toRecord)
    },

    async openCaseOfAlert(alertId) {
      const row = await openOf(db, alertId)
      return row ? toRecord(row) : null
    },

    async update(id, change, event) {
      for (let attempt = 1; ; attempt++) {
        const r = await db.transaction().execute(async (trx): Promise<UpdateCaseResult | 'raced'> => {
          const row = await byId(trx, id)
          if (!row) return { ok: false, code: 'NOT_FOUND' }
          const before = toRecord(row)
          const result = change(before.case)
          if (!result.ok) return { ok: false, code: 'CONFLICT', reason: result.reason }
          const next = result.case
          const updated = await trx
            .updateTable('cases')
            .set({ ...factsOf(next), updated_at: iso(event.recordedAt), version: row.version + 1 })
            .where('id', '=', id)
            .where('version', '=', row.version)
            .returningAll()
            .executeTakeFirst()
          if (!updated) return 'raced'
          const moved = next.state !== before.case.state
          await insertEvent(trx, id, event, moved ? before.case.state : null, moved ? next.state : null)
          return { ok: true, record: toRecord(updated) }
        })
        if (r !== 'raced') return r
        if (attempt >= UPDATE_ATTEMPTS)
          return { ok: false, code: 'CONFLICT', reason: 'the case is being changed by someone else; try again' }
      }
    },

    async addEvent(caseId, event) {
      return db.transaction().execute(async (trx) => {
        if (!(await byId(trx, caseId))) return null
        const e = await insertEvent(trx, caseId, event, null, null)
        await trx
          .updateTable('cases')
          .set({ updated_at: iso(event.recordedAt) })
          .where('id', '=', caseId)
          .execute()
        return e
      })
    },

    async events(caseId) {
      const rows = await db.selectFrom('case_events').selectAll().where('case_id', '=', caseId).orderBy('id').execute()
      return rows.map(toEvent)
    },
  }
}
