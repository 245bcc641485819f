import { z } from 'zod'
import { ENGLAND_AND_WALES, type HolidayCalendar } from '../calendar/bank-holidays.ts'
import { addCalendarDays, addWorkingDays, calendarCovers } from '../calendar/working-days.ts'
import type { AwaabCase, CaseStep } from './case.ts'

/**
 * Statutory clocks for an Awaab's Law case (SI 2025/1042; timescales from the GOV.UK guidance
 * "Awaab's Law: Guidance for social landlords – Timeframes for repairs in the social rented sector",
 * 17 Oct 2025, and secondary sources, as summarised in standards.md §8 — the regulation text itself
 * was not readable when this was written, so regulation numbers are as those sources give them).
 */

export const DeadlineStep = z.enum(['investigate', 'written-summary', 'make-safe', 'preventative-begin', 'preventative-on-site'])
export type DeadlineStep = z.infer<typeof DeadlineStep>

export interface ClockPolicy {
  /**
   * 'strict': the day of triage (or of the investigation concluding) is working day 1 when it is a
   * working day. 'next-day': day 1 is the next working day. Sources disagree (standards.md §8);
   * strict is the default because a landlord who meets it meets both readings.
   */
  dayCounting: 'strict' | 'next-day'
  holidays: HolidayCalendar
}

export const DEFAULT_CLOCK_POLICY: ClockPolicy = { dayCounting: 'strict', holidays: ENGLAND_AND_WALES }

export interface Deadline {
  step: DeadlineStep
  /** The `steps` field whose time decides whether this deadline was met. */
  doneBy: CaseStep
  dueAt: number
  /**
   * The deadline runs from the investigation concluding, which has not happened yet: `dueAt` is
   * what it would be had the investigation concluded at its own deadline. Never judged as breached.
   */
  provisional: boolean
  /** False when `dueAt` lies past the holiday list, so an unlisted holiday could move it. */
  calendarCovered: boolean
  source: string
}

const HOUR_MS = 3_600_000
const EMERGENCY_HOURS = 24

/** Every deadline that applies to the case as it stands. */
export function caseDeadlines(c: AwaabCase, policy: Partial<ClockPolicy> = {}): Deadline[] {
  const p = { ...DEFAULT_CLOCK_POLICY, ...policy }
  if (c.state === 'cancelled') return []
  const make = (step: DeadlineStep, doneBy: CaseStep, dueAt: number, provisional: boolean, source: string): Deadline => ({
    step,
    doneBy,
    dueAt,
    provisional,
    calendarCovered: calendarCovers(dueAt, p.holidays),
    source,
  })

  if (c.category === 'emergency') {
    // Elapsed hours, weekends and holidays included (standards.md §8). Whether the 3-working-day
    // written summary also applies to emergencies is unconfirmed, so no clock is invented for it.
    const due = c.triagedAt + EMERGENCY_HOURS * HOUR_MS
    const investigate = make(
      'investigate',
      'investigated',
      due,
      false,
      'SI 2025/1042; guidance: emergency hazard, investigate within 24 hours',
    )
    if (c.hazardFound === false) return [investigate]
    return [investigate, make('make-safe', 'madeSafe', due, false, 'SI 2025/1042; guidance: emergency hazard, make safe within 24 hours')]
  }

  const countStartDay = p.dayCounting === 'strict'
  const working = (from: number, n: number) => addWorkingDays(from, n, p.holidays, { countStartDay })
  const investigateDue = working(c.triagedAt, 10)
  const concluded = c.steps.investigated
  const anchor = concluded ?? investigateDue
  const provisional = concluded === undefined

  const out = [
    make(
      'investigate',
      'investigated',
      investigateDue,
      false,
      'SI 2025/1042 reg 6 (per secondary sources): investigate within 10 working days',
    ),
    make(
      'written-summary',
      'summarySent',
      working(anchor, 3),
      provisional,
      'SI 2025/1042 reg 9: written summary within 3 working days of the investigation',
    ),
  ]
  if (c.hazardFound === false) return out
  out.push(
    make(
      'make-safe',
      'madeSafe',
      working(anchor, 5),
      provisional,
      'SI 2025/1042 reg 11(2)(a): safety work within 5 working days of the investigation',
    ),
  )
  if (!c.preventativeRequired) return out
  // The 12-week limit is read as running from the investigation too and ending with its London
  // day (unconfirmed: the guidance summary does not say which event starts it).
  out.push(
    make(
      'preventative-begin',
      'preventativeBegun',
      working(anchor, 5),
      provisional,
      'SI 2025/1042; guidance: begin preventative work within 5 working days',
    ),
    make(
      'preventative-on-site',
      'preventativeOnSite',
      addCalendarDays(anchor, 12 * 7),
      provisional,
      'SI 2025/1042; guidance: physically start within 12 weeks',
    ),
  )
  return out
}

export const DeadlineState = z.enum(['met', 'missed', 'due', 'overdue', 'waiting'])
export type DeadlineState = z.infer<typeof DeadlineState>

export interface DeadlineStatus extends Deadline {
  doneAt: number | undefined
  /** met/missed once done (on time or late); due/overdue while not done; waiting while provisional. */
  state: DeadlineState
  breached: boolean
  /** Milliseconds until `dueAt` (negative once overdue); null once done or while provisional. */
  msLeft: number | null
}

/** Judges one deadline at `now`. Done at or before `dueAt` is on time: "within" includes the last moment. */
export function deadlineStatus(d: Deadline, steps: AwaabCase['steps'], now: number): DeadlineStatus {
  const doneAt = steps[d.doneBy]
  if (doneAt !== undefined) {
    const late = doneAt > d.dueAt
    return { ...d, doneAt, state: late ? 'missed' : 'met', breached: late, msLeft: null }
  }
  if (d.provisional) return { ...d, doneAt, state: 'waiting', breached: false, msLeft: null }
  const overdue = now > d.dueAt
  return { ...d, doneAt, state: overdue ? 'overdue' : 'due', breached: overdue, msLeft: d.dueAt - now }
}

export interface CaseClock {
  deadlines: DeadlineStatus[]
  /** Any deadline missed or overdue: the case has breached the regulations at `now`. */
  breached: boolean
  /** The soonest deadline still open (not done, not provisional), for sorting a caseload. */
  next: DeadlineStatus | undefined
}

export function caseClock(c: AwaabCase, now: number, policy: Partial<ClockPolicy> = {}): CaseClock {
  const deadlines = caseDeadlines(c, policy).map((d) => deadlineStatus(d, c.steps, now))
  let next: DeadlineStatus | undefined
  for (const d of deadlines) {
    if ((d.state === 'due' || d.state === 'overdue') && (next === undefined || d.dueAt < next.dueAt)) next = d
  }
  return { deadlines, breached: deadlines.some((d) => d.breached), next }
}
