import { describe, expect, it } from 'vitest'
import {
  AwaabCase,
  type AwaabCaseInput,
  applyStep,
  BANK_HOLIDAYS_ENGLAND_WALES,
  CASE_TRANSITIONS,
  CaseState,
  CaseTransition,
  caseClock,
  caseDeadlines,
  caseView,
  type DeadlineStep,
  holidayCalendar,
  recordStep,
  type TransitionResult,
  transition,
} from '#devices'

const utc = (iso: string) => Date.parse(iso)
const endGMT = (date: string) => utc(`${date}T23:59:59.999Z`)
const endBST = (date: string) => utc(`${date}T22:59:59.999Z`)
const HOUR = 3_600_000
const ok = (r: TransitionResult): AwaabCase => {
  if (!r.ok) throw new Error(r.reason)
  return r.case
}

const newCase = (over: Partial<AwaabCaseInput>): AwaabCase =>
  AwaabCase.parse({
    id: 'case-1',
    category: 'significant',
    hazard: 'damp-mould',
    triagedAt: utc('2026-12-14T09:00:00Z'),
    state: 'open',
    ...over,
  })
const dueOf = (c: AwaabCase, step: DeadlineStep, policy = {}) => caseDeadlines(c, policy).find((d) => d.step === step)?.dueAt
const stateOf = (c: AwaabCase, now: number, step: DeadlineStep) => caseClock(c, now).deadlines.find((d) => d.step === step)

describe('emergency hazards: 24 elapsed hours', () => {
  const c = newCase({ category: 'emergency', hazard: 'excess-cold', triagedAt: utc('2026-03-28T12:00:00Z') })

  it('runs through the weekend and the clocks going forward', () => {
    // Saturday noon GMT → Sunday 13:00 BST, exactly 24 h later.
    expect(caseDeadlines(c).map((d) => [d.step, d.dueAt])).toEqual([
      ['investigate', utc('2026-03-29T12:00:00Z')],
      ['make-safe', utc('2026-03-29T12:00:00Z')],
    ])
  })

  it('gives time left and flags a breach once the 24 hours pass', () => {
    expect(stateOf(c, utc('2026-03-28T13:00:00Z'), 'make-safe')).toMatchObject({ state: 'due', breached: false, msLeft: 23 * HOUR })
    const late = caseClock(c, utc('2026-03-29T13:00:00Z'))
    expect(late.breached).toBe(true)
    expect(late.deadlines.map((d) => d.state)).toEqual(['overdue', 'overdue'])
    expect(late.deadlines[0]?.msLeft).toBe(-HOUR)
  })

  it('meets both steps when investigated and made safe on one visit within the day', () => {
    const visit = ok(transition(c, 'made-safe', utc('2026-03-29T11:00:00Z')))
    const clock = caseClock(visit, utc('2026-04-10T00:00:00Z'))
    expect(clock.deadlines.map((d) => d.state)).toEqual(['met', 'met'])
    expect(clock.breached).toBe(false)
    expect(clock.next).toBeUndefined()
  })
})

describe('significant hazards over Christmas 2026', () => {
  const c = newCase({ triagedAt: utc('2026-12-14T09:00:00Z') }) // Monday

  it('investigation: 10 working days skipping 25 and 28 Dec (strict reading counts triage day)', () => {
    expect(dueOf(c, 'investigate')).toBe(endGMT('2026-12-29'))
    expect(dueOf(c, 'investigate', { dayCounting: 'next-day' })).toBe(endGMT('2026-12-30'))
  })

  it('later steps are provisional until the investigation concludes, and never flagged', () => {
    const clock = caseClock(c, utc('2027-06-01T00:00:00Z'))
    expect(clock.deadlines.map((d) => [d.step, d.state])).toEqual([
      ['investigate', 'overdue'],
      ['written-summary', 'waiting'],
      ['make-safe', 'waiting'],
      ['preventative-begin', 'waiting'],
      ['preventative-on-site', 'waiting'],
    ])
    expect(clock.deadlines.filter((d) => d.breached).map((d) => d.step)).toEqual(['investigate'])
    expect(clock.next?.step).toBe('investigate')
  })

  it('summary (3), safety and preventative (5) working days and 12 weeks run from the investigation', () => {
    const done = ok(transition(c, 'investigated', utc('2026-12-23T15:00:00Z')))
    const d = caseDeadlines(done)
    expect(d.map((x) => [x.step, x.dueAt, x.provisional])).toEqual([
      ['investigate', endGMT('2026-12-29'), false],
      ['written-summary', endGMT('2026-12-29'), false], // 23, 24, 29 Dec
      ['make-safe', endGMT('2026-12-31'), false], // 23, 24, 29, 30, 31 Dec
      ['preventative-begin', endGMT('2026-12-31'), false],
      ['preventative-on-site', endGMT('2027-03-17'), false], // 84 days
    ])
    expect(d.every((x) => x.calendarCovered)).toBe(true)
  })

  it('flags a summary sent late and not one sent on the last minute of its day', () => {
    const inv = ok(transition(c, 'investigated', utc('2026-12-23T15:00:00Z')))
    const onTime = ok(recordStep(inv, 'summarySent', endGMT('2026-12-29')))
    const late = ok(recordStep(inv, 'summarySent', endGMT('2026-12-29') + 1))
    const now = utc('2026-12-30T12:00:00Z')
    expect(stateOf(onTime, now, 'written-summary')).toMatchObject({ state: 'met', breached: false, msLeft: null })
    expect(stateOf(late, now, 'written-summary')).toMatchObject({ state: 'missed', breached: true })
    expect(caseClock(late, now).breached).toBe(true)
  })

  it('gives time left to the end of the London working day', () => {
    const inv = ok(transition(c, 'investigated', utc('2026-12-23T15:00:00Z')))
    const now = utc('2026-12-31T22:59:59.999Z')
    expect(stateOf(inv, now, 'make-safe')).toMatchObject({ state: 'due', msLeft: HOUR })
    // The unsent summary (due 29 Dec) is overdue, so it is the most pressing open deadline.
    expect(caseClock(inv, now).next).toMatchObject({ step: 'written-summary', state: 'overdue' })
  })
})

describe('significant hazards over Christmas 2027 and Easter', () => {
  it('skips both Christmas substitute days in 2027 and New Year 2028', () => {
    const c = newCase({ triagedAt: utc('2027-12-20T10:00:00Z') })
    // 20–24 Dec (5), 29–31 Dec (8), 4–5 Jan (10).
    expect(dueOf(c, 'investigate')).toBe(endGMT('2028-01-05'))
  })

  it('skips Easter 2026 and ends in BST', () => {
    const c = newCase({ triagedAt: utc('2026-04-01T10:00:00+01:00') })
    // 1, 2 Apr; Good Friday 3 and Easter Monday 6 skipped; 7–10, 13–16 Apr.
    expect(dueOf(c, 'investigate')).toBe(endBST('2026-04-16'))
  })

  it('skips Easter 2027, the weekend the clocks go forward', () => {
    const c = newCase({ triagedAt: utc('2027-03-22T10:00:00Z') })
    // 22–25 Mar (4); 26 and 29 Mar holidays; 30, 31 Mar, 1, 2, 5, 6 Apr.
    expect(dueOf(c, 'investigate')).toBe(endBST('2027-04-06'))
  })

  it('crosses the autumn change, ending in GMT', () => {
    const c = newCase({ triagedAt: utc('2026-10-22T09:00:00+01:00') })
    const inv = ok(transition(c, 'investigated', utc('2026-10-22T15:00:00+01:00')))
    expect(dueOf(inv, 'written-summary')).toBe(endGMT('2026-10-26'))
  })

  it('marks deadlines past the shipped holiday list', () => {
    const c = newCase({ triagedAt: utc('2028-12-20T10:00:00Z') })
    const d = caseDeadlines(c)
    expect(d.find((x) => x.step === 'investigate')?.calendarCovered).toBe(false)
    const extended = holidayCalendar(['2029-01-01'], { firstYear: 2024, lastYear: 2029 })
    expect(caseDeadlines(c, { holidays: extended }).find((x) => x.step === 'investigate')?.calendarCovered).toBe(true)
  })
})

describe('which deadlines apply', () => {
  it('owes only the written summary when the investigation finds no hazard', () => {
    const r = ok(transition(newCase({}), 'no-hazard', utc('2026-12-15T12:00:00Z')))
    expect(r.hazardFound).toBe(false)
    expect(caseDeadlines(r).map((d) => d.step)).toEqual(['investigate', 'written-summary'])
  })

  it('drops make-safe from an emergency case that turns out to have no hazard', () => {
    const c = newCase({ category: 'emergency', triagedAt: utc('2026-12-24T18:00:00Z') })
    const r = ok(transition(c, 'no-hazard', utc('2026-12-25T09:00:00Z')))
    expect(caseClock(r, utc('2026-12-27T00:00:00Z'))).toMatchObject({
      breached: false,
      deadlines: [{ step: 'investigate', state: 'met' }],
    })
  })

  it('drops the preventative clocks when no preventative work is needed, and all clocks when cancelled', () => {
    expect(caseDeadlines(newCase({ preventativeRequired: false })).map((d) => d.step)).toEqual([
      'investigate',
      'written-summary',
      'make-safe',
    ])
    expect(caseDeadlines(newCase({ state: 'cancelled' }))).toEqual([])
  })
})

describe('case schema and state machine', () => {
  it('refuses cases before Awaab’s Law came into force and steps before triage', () => {
    expect(
      AwaabCase.safeParse({ id: 'x', category: 'emergency', hazard: 'fire', triagedAt: utc('2025-10-26T12:00:00Z'), state: 'open' })
        .success,
    ).toBe(false)
    expect(
      AwaabCase.safeParse({ id: 'x', category: 'emergency', hazard: 'fire', triagedAt: utc('2025-10-27T00:00:00Z'), state: 'open' })
        .success,
    ).toBe(true)
    const early = {
      id: 'x',
      category: 'significant',
      hazard: 'damp-mould',
      triagedAt: utc('2026-01-05T09:00:00Z'),
      state: 'open',
      steps: { investigated: utc('2026-01-04T09:00:00Z') },
    }
    expect(AwaabCase.safeParse(early).success).toBe(false)
    expect(AwaabCase.safeParse({ ...early, category: 'urgent', steps: {} }).success).toBe(false)
  })

  it('allows only the listed transitions', () => {
    expect(CaseTransition.safeParse({ from: 'open', to: 'investigated' }).success).toBe(true)
    expect(CaseTransition.safeParse({ from: 'closed', to: 'open' }).success).toBe(false)
    expect(CaseTransition.safeParse({ from: 'investigated', to: 'closed' }).success).toBe(false)
    for (const s of CaseState.options) for (const t of CASE_TRANSITIONS[s]) expect(CaseState.options).toContain(t)
    expect(CASE_TRANSITIONS.closed).toEqual([])
  })

  it('walks a case to closed, recording each step once', () => {
    const at = (iso: string) => utc(iso)
    let c = ok(transition(newCase({}), 'investigated', at('2026-12-15T10:00:00Z')))
    c = ok(recordStep(c, 'summarySent', at('2026-12-16T10:00:00Z')))
    c = ok(transition(c, 'made-safe', at('2026-12-17T10:00:00Z')))
    c = ok(transition(c, 'preventative-works', at('2026-12-18T10:00:00Z')))
    c = ok(recordStep(c, 'preventativeOnSite', at('2027-01-11T10:00:00Z')))
    c = ok(transition(c, 'closed', at('2027-02-01T10:00:00Z')))
    expect(c.steps).toEqual({
      investigated: at('2026-12-15T10:00:00Z'),
      summarySent: at('2026-12-16T10:00:00Z'),
      madeSafe: at('2026-12-17T10:00:00Z'),
      preventativeBegun: at('2026-12-18T10:00:00Z'),
      preventativeOnSite: at('2027-01-11T10:00:00Z'),
    })
    expect(caseClock(c, at('2027-06-01T00:00:00Z'))).toMatchObject({ breached: false, next: undefined })
    expect(AwaabCase.safeParse(c).success).toBe(true)
  })

  it('refuses a disallowed move, a time before triage and a step recorded twice', () => {
    const c = newCase({})
    expect(transition(c, 'closed', utc('2026-12-20T00:00:00Z'))).toMatchObject({ ok: false })
    expect(transition(c, 'investigated', utc('2026-12-01T00:00:00Z'))).toMatchObject({ ok: false })
    const once = ok(recordStep(c, 'summarySent', utc('2026-12-20T00:00:00Z')))
    expect(recordStep(once, 'summarySent', utc('2026-12-21T00:00:00Z'))).toMatchObject({ ok: false })
  })

  it('does not mutate the case it was given', () => {
    const c = newCase({})
    const before = structuredClone(c)
    transition(c, 'investigated', utc('2026-12-15T10:00:00Z'))
    recordStep(c, 'summarySent', utc('2026-12-15T10:00:00Z'))
    expect(c).toEqual(before)
  })
})

// Acceptance 4 (issue 9). Every holiday below is checked against the shipped list first, which is
// the GOV.UK feed https://www.gov.uk/bank-holidays.json, division england-and-wales (see
// devices/calendar/bank-holidays.ts for the stored copy and its provenance).
describe('acceptance 4: working days over Christmas and Easter, 2026 and 2027', () => {
  const dues = (c: AwaabCase) => Object.fromEntries(caseDeadlines(c).map((d) => [d.step, d.dueAt]))

  it('relies only on bank holidays GOV.UK lists for England and Wales', () => {
    const listed = new Map(BANK_HOLIDAYS_ENGLAND_WALES.map((h) => [h.date, h]))
    expect(
      [
        '2026-04-03', // Good Friday
        '2026-04-06', // Easter Monday
        '2026-12-25', // Christmas Day, a Friday
        '2026-12-28', // Boxing Day falls on Saturday 26th: substitute Monday
        '2027-01-01', // New Year's Day
        '2027-03-26', // Good Friday
        '2027-03-29', // Easter Monday
        '2027-12-27', // Christmas Day falls on Saturday: substitute Monday
        '2027-12-28', // Boxing Day falls on Sunday: substitute Tuesday
        '2028-01-03', // New Year's Day falls on Saturday: substitute Monday
      ].map((d) => listed.get(d)?.title),
    ).toEqual([
      'Good Friday',
      'Easter Monday',
      'Christmas Day',
      'Boxing Day',
      "New Year's Day",
      'Good Friday',
      'Easter Monday',
      'Christmas Day',
      'Boxing Day',
      "New Year's Day",
    ])
    expect(listed.get('2026-12-28')?.substitute).toBe(true)
    // Boxing Day's own date is a Saturday in 2026, not a listed holiday: the weekend skips it anyway.
    expect(listed.has('2026-12-26')).toBe(false)
  })

  describe('a significant case triaged on Wednesday 23 December 2026', () => {
    const c = newCase({ triagedAt: utc('2026-12-23T10:00:00Z') })

    it('investigates by 8 January 2027, skipping 25, 26 (Sat), 28 (substitute Boxing Day) Dec and 1 Jan', () => {
      // 23, 24 (2); 29, 30, 31 (5); 4, 5, 6, 7, 8 Jan (10).
      expect(dueOf(c, 'investigate')).toBe(endGMT('2027-01-08'))
      // 24 (1); 29, 30, 31 (4); 4–8 (9); 11 Jan (10).
      expect(dueOf(c, 'investigate', { dayCounting: 'next-day' })).toBe(endGMT('2027-01-11'))
      // Weekends alone would end it on 5 Jan: the three holidays are what move it.
      expect(dueOf(c, 'investigate', { holidays: holidayCalendar([]) })).toBe(endGMT('2027-01-05'))
    })

    it('is not breached on the day weekends alone would end it, nor at the last moment, and is one millisecond later', () => {
      expect(caseClock(c, utc('2027-01-06T12:00:00Z'))).toMatchObject({ breached: false, next: { step: 'investigate', state: 'due' } })
      expect(stateOf(c, endGMT('2027-01-08'), 'investigate')).toMatchObject({ state: 'due', breached: false, msLeft: 0 })
      expect(stateOf(c, endGMT('2027-01-08') + 1, 'investigate')).toMatchObject({ state: 'overdue', breached: true, msLeft: -1 })
      expect(caseClock(c, endGMT('2027-01-08') + 1).breached).toBe(true)
    })

    it('runs the later clocks from an investigation on Christmas Eve', () => {
      const inv = ok(transition(c, 'investigated', utc('2026-12-24T16:00:00Z')))
      expect(dues(inv)).toEqual({
        investigate: endGMT('2027-01-08'),
        'written-summary': endGMT('2026-12-30'), // 24, 29, 30
        'make-safe': endGMT('2027-01-04'), // 24, 29, 30, 31, 4 Jan
        'preventative-begin': endGMT('2027-01-04'),
        'preventative-on-site': endGMT('2027-03-18'), // 12 weeks: calendar days, holidays included
      })
    })
  })

  it('Christmas 2027: both substitute days and the New Year substitute (3 Jan 2028) are skipped', () => {
    const c = newCase({ triagedAt: utc('2027-12-23T10:00:00Z') }) // Thursday
    // 23, 24 (2); 29, 30, 31 (5); 4, 5, 6, 7 Jan (9); 10 Jan (10).
    expect(dueOf(c, 'investigate')).toBe(endGMT('2028-01-10'))
    expect(caseDeadlines(c).find((d) => d.step === 'investigate')?.calendarCovered).toBe(true)
  })

  it('Easter 2026: an investigation on Thursday 2 April gives summary by the 8th and safety work by the 10th', () => {
    const inv = ok(transition(newCase({ triagedAt: utc('2026-03-30T09:00:00+01:00') }), 'investigated', utc('2026-04-02T15:00:00+01:00')))
    expect(dues(inv)).toEqual({
      investigate: endBST('2026-04-14'), // 30, 31 Mar, 1, 2 Apr (4); 7–10 (8); 13, 14 (10)
      'written-summary': endBST('2026-04-08'), // 2; Good Friday 3 and Easter Monday 6 skipped; 7, 8
      'make-safe': endBST('2026-04-10'), // 2, 7, 8, 9, 10
      'preventative-begin': endBST('2026-04-10'),
      'preventative-on-site': endBST('2026-06-25'), // 84 days after 2 April
    })
  })

  it('Easter 2027: an investigation on Thursday 25 March gives summary by the 31st and safety work by 2 April', () => {
    const inv = ok(transition(newCase({ triagedAt: utc('2027-03-22T09:00:00Z') }), 'investigated', utc('2027-03-25T15:00:00Z')))
    // 25; Good Friday 26, the weekend the clocks go forward, Easter Monday 29 skipped; 30, 31 Mar, 1, 2 Apr.
    expect(dues(inv)).toMatchObject({ 'written-summary': endBST('2027-03-31'), 'make-safe': endBST('2027-04-02') })
    expect(stateOf(inv, utc('2027-03-30T12:00:00+01:00'), 'written-summary')).toMatchObject({ state: 'due', breached: false })
    expect(stateOf(inv, endBST('2027-03-31') + 1, 'written-summary')).toMatchObject({ state: 'overdue', breached: true })
  })

  it('emergency clocks do not stop for Christmas Day', () => {
    const c = newCase({ category: 'emergency', hazard: 'excess-cold', triagedAt: utc('2026-12-24T18:00:00Z') })
    expect(dues(c)).toEqual({ investigate: utc('2026-12-25T18:00:00Z'), 'make-safe': utc('2026-12-25T18:00:00Z') })
    expect(caseClock(c, utc('2026-12-25T18:00:00.001Z')).breached).toBe(true)
  })
})

describe('recording a step as people report it', () => {
  const c = newCase({ triagedAt: utc('2026-11-02T09:00:00Z') })

  it('moves the case for steps that are states and records the others as facts', () => {
    const inv = ok(applyStep(c, 'investigated', utc('2026-11-03T09:00:00Z')))
    expect(inv).toMatchObject({ state: 'investigated', hazardFound: true, steps: { investigated: utc('2026-11-03T09:00:00Z') } })
    const sent = ok(applyStep(inv, 'summarySent', utc('2026-11-04T09:00:00Z')))
    expect(sent.state).toBe('investigated')
    expect(sent.steps.summarySent).toBe(utc('2026-11-04T09:00:00Z'))
    const safe = ok(applyStep(sent, 'madeSafe', utc('2026-11-05T09:00:00Z')))
    expect(ok(applyStep(safe, 'preventativeBegun', utc('2026-11-06T09:00:00Z'))).state).toBe('preventative-works')
  })

  it('says why a step cannot be recorded', () => {
    expect(applyStep(c, 'summarySent', utc('2026-11-03T09:00:00Z'))).toEqual({
      ok: false,
      reason: 'summarySent cannot be recorded before the investigation',
    })
    const inv = ok(applyStep(c, 'investigated', utc('2026-11-03T09:00:00Z')))
    expect(applyStep(inv, 'preventativeOnSite', utc('2026-11-03T08:00:00Z'))).toEqual({
      ok: false,
      reason: 'preventativeOnSite cannot be earlier than the investigation',
    })
    expect(applyStep(inv, 'preventativeBegun', utc('2026-11-04T09:00:00Z'))).toEqual({
      ok: false,
      reason: 'preventativeBegun cannot be recorded: cannot go from investigated to preventative-works',
    })
    expect(applyStep(inv, 'investigated', utc('2026-11-04T09:00:00Z'))).toEqual({ ok: false, reason: 'investigated already recorded' })
    expect(applyStep(c, 'investigated', utc('2026-11-01T09:00:00Z'))).toEqual({
      ok: false,
      reason: 'investigated cannot be recorded: time is before the case was triaged',
    })
  })

  it('makes an emergency safe on the first visit, concluding the investigation too', () => {
    const e = newCase({ category: 'emergency', triagedAt: utc('2026-11-02T09:00:00Z') })
    expect(ok(applyStep(e, 'madeSafe', utc('2026-11-02T20:00:00Z')))).toMatchObject({
      state: 'made-safe',
      steps: { investigated: utc('2026-11-02T20:00:00Z'), madeSafe: utc('2026-11-02T20:00:00Z') },
    })
  })
})

describe('a case as the API serves it', () => {
  const record = (c: AwaabCase) => ({
    case: c,
    deviceId: 'room-1',
    site: 'block-a',
    createdBy: 'admin',
    createdAt: '2026-11-02T09:00:01.000Z',
    updatedAt: '2026-11-02T09:00:01.000Z',
  })

  it('gives ISO times, seconds left (negative once overdue) and the moves allowed next', () => {
    const c = newCase({ triagedAt: utc('2026-11-02T09:00:00Z'), sourceAlertId: 'a-1' })
    // Ten working days: 2–6 and 9–13 November.
    const due = endGMT('2026-11-13')
    const v = caseView(record(c), due - 1500)
    expect(v).toMatchObject({
      id: 'case-1',
      alertId: 'a-1',
      state: 'open',
      transitions: ['investigated', 'no-hazard', 'made-safe', 'alternative-accommodation', 'cancelled'],
      triagedAt: '2026-11-02T09:00:00.000Z',
      hazardFound: null,
      steps: { investigated: null, summarySent: null, madeSafe: null, preventativeBegun: null, preventativeOnSite: null },
      asOf: '2026-11-13T23:59:58.499Z',
      breached: false,
      next: { step: 'investigate', due: '2026-11-13T23:59:59.999Z', secondsLeft: 1, status: 'due' },
    })
    expect(v.deadlines.map((d) => [d.step, d.secondsLeft, d.status])).toEqual([
      ['investigate', 1, 'due'],
      ['written-summary', null, 'waiting'],
      ['make-safe', null, 'waiting'],
      ['preventative-begin', null, 'waiting'],
      ['preventative-on-site', null, 'waiting'],
    ])
    const late = caseView(record(c), due + 1)
    expect(late).toMatchObject({ breached: true, next: { step: 'investigate', secondsLeft: -1, status: 'overdue', breached: true } })
    const inv = ok(applyStep(c, 'investigated', utc('2026-11-03T10:00:00Z')))
    expect(caseView(record(inv), due).deadlines[0]).toMatchObject({ done: '2026-11-03T10:00:00.000Z', secondsLeft: null, status: 'met' })
  })
})
