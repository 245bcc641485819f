import { z } from 'zod'
import { type AwaabCase, CASE_TRANSITIONS, CaseState, CaseStepName, HazardCategory } from './case.ts'
import { type ClockPolicy, caseClock, DeadlineState, type DeadlineStatus, DeadlineStep } from './clocks.ts'

/**
 * A case as the API serves it: the statutory facts of `AwaabCase`, where the case came from, its
 * deadlines judged at the moment of the request, and its evidence trail. Times are ISO 8601 UTC.
 */

const Iso = z.iso.datetime().describe('ISO 8601, UTC')

/** A case as kept in the store: the facts the clocks judge, plus who opened it, from where. */
export interface CaseRecord {
  case: AwaabCase
  deviceId: string | null
  site: string | null
  createdBy: string
  /** ISO 8601 UTC. */
  createdAt: string
  updatedAt: string
}

export const CaseEventKind = z.enum(['opened', 'step-recorded', 'state-changed', 'note', 'evidence'])
export type CaseEventKind = z.infer<typeof CaseEventKind>

/** A pointer to evidence kept elsewhere (a photo's URL, a report's file name): the service stores no files. */
export const CaseEvidence = z.strictObject({
  description: z.string().trim().min(1).max(500),
  reference: z.string().trim().min(1).max(2000).describe('a URL, or a file name and where it is kept'),
})
export type CaseEvidence = z.infer<typeof CaseEvidence>

/** One entry of a case's evidence trail. Entries are never changed or removed. */
export const CaseEvent = z.object({
  id: z.number().int(),
  caseId: z.string(),
  at: Iso.describe('when it happened, as the person said (a step done yesterday is recorded with yesterday)'),
  recordedAt: Iso.describe('when it was entered, which a backdated step cannot change'),
  actor: z.string(),
  kind: CaseEventKind,
  step: CaseStepName.nullable(),
  from: CaseState.nullable(),
  to: CaseState.nullable(),
  note: z.string().nullable(),
  evidence: CaseEvidence.nullable(),
})
export type CaseEvent = z.infer<typeof CaseEvent>

export const CaseDeadline = z.object({
  step: DeadlineStep,
  doneBy: CaseStepName.describe('the step whose time decides whether this deadline was met'),
  due: Iso,
  done: Iso.nullable(),
  secondsLeft: z
    .number()
    .int()
    .nullable()
    .describe('until due, negative once overdue; null once done, or while it waits for the investigation'),
  status: DeadlineState,
  breached: z.boolean(),
  provisional: z.boolean().describe('runs from an investigation not concluded yet: due as if it concluded at its own deadline'),
  calendarCovered: z.boolean().describe('false when due lies past the bank holiday list, so an unlisted holiday could move it'),
  source: z.string(),
})
export type CaseDeadline = z.infer<typeof CaseDeadline>

export const CaseView = z.object({
  id: z.string(),
  alertId: z.string().nullable(),
  deviceId: z.string().nullable(),
  site: z.string().nullable(),
  category: HazardCategory,
  hazard: z.string(),
  state: CaseState,
  transitions: z.array(CaseState).describe('the states the case may move to next'),
  triagedAt: Iso,
  preventativeRequired: z.boolean(),
  hazardFound: z.boolean().nullable(),
  steps: z.record(CaseStepName, Iso.nullable()),
  createdBy: z.string(),
  createdAt: Iso,
  updatedAt: Iso,
  asOf: Iso.describe('the moment the deadlines were judged at'),
  breached: z.boolean().describe('a deadline was missed or is overdue'),
  next: CaseDeadline.nullable().describe('the soonest deadline still open'),
  deadlines: z.array(CaseDeadline),
})
export type CaseView = z.infer<typeof CaseView>

export const CaseDetail = CaseView.extend({ events: z.array(CaseEvent).describe('the evidence trail, in the order it was entered') })
export type CaseDetail = z.infer<typeof CaseDetail>

const iso = (ms: number) => new Date(ms).toISOString()
const isoOrNull = (ms: number | undefined) => (ms === undefined ? null : iso(ms))

function deadlineView(d: DeadlineStatus): CaseDeadline {
  return {
    step: d.step,
    doneBy: d.doneBy,
    due: iso(d.dueAt),
    done: isoOrNull(d.doneAt),
    // Floor, so that one millisecond overdue is already negative.
    secondsLeft: d.msLeft === null ? null : Math.floor(d.msLeft / 1000),
    status: d.state,
    breached: d.breached,
    provisional: d.provisional,
    calendarCovered: d.calendarCovered,
    source: d.source,
  }
}

/** Judges a stored case's deadlines at `now`: nothing is stored about time left, so it is never stale. */
export function caseView(r: CaseRecord, now: number, policy: Partial<ClockPolicy> = {}): CaseView {
  const c = r.case
  const clock = caseClock(c, now, policy)
  return {
    id: c.id,
    alertId: c.sourceAlertId ?? null,
    deviceId: r.deviceId,
    site: r.site,
    category: c.category,
    hazard: c.hazard,
    state: c.state,
    transitions: [...CASE_TRANSITIONS[c.state]],
    triagedAt: iso(c.triagedAt),
    preventativeRequired: c.preventativeRequired,
    hazardFound: c.hazardFound ?? null,
    steps: {
      investigated: isoOrNull(c.steps.investigated),
      summarySent: isoOrNull(c.steps.summarySent),
      madeSafe: isoOrNull(c.steps.madeSafe),
      preventativeBegun: isoOrNull(c.steps.preventativeBegun),
      preventativeOnSite: isoOrNull(c.steps.preventativeOnSite),
    },
    createdBy: r.createdBy,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    asOf: iso(now),
    breached: clock.breached,
    next: clock.next ? deadlineView(clock.next) : null,
    deadlines: clock.deadlines.map(deadlineView),
  }
}
