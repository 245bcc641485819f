import { beforeEach, describe, expect, it } from 'vitest'
import { applyStep, type CaseStep, transition } from '#devices'
import { type CaseStore, createCaseStore, type NewCase, type NewCaseEvent } from '../../store/case-store.ts'
import { migrateToLatest, type Store } from '../../store/db.ts'
import { freshStore, STORE_ADAPTERS } from '../helpers/stores.ts'

// Milliseconds on purpose: both dialects must give them back.
const T0 = Date.parse('2026-11-02T09:15:00.123Z')
const HOUR = 3_600_000
const iso = (ms: number) => new Date(ms).toISOString()
const ALERT_A = '7f9c2b1e-3a4d-4e5f-8a6b-1c2d3e4f5a6b'
const ALERT_B = '0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d'

const newCase = (over: Partial<NewCase> = {}): NewCase => ({
  alertId: ALERT_A,
  deviceId: 'room-1',
  site: 'block-a',
  category: 'significant',
  hazard: 'damp-mould',
  triagedAt: T0,
  preventativeRequired: true,
  createdBy: 'alice',
  now: T0 + 1000,
  ...over,
})
const event = (at: number, over: Partial<NewCaseEvent> = {}): NewCaseEvent => ({
  at,
  recordedAt: at + 500,
  actor: 'bob',
  kind: 'step-recorded',
  ...over,
})

async function opened(cases: CaseStore, over: Partial<NewCase> = {}) {
  const r = await cases.create(newCase(over))
  if (!r.ok) throw new Error('create refused')
  return r.record
}

describe.each(STORE_ADAPTERS)('case store on %s', (_dialect, open) => {
  const fresh = freshStore(open, 'sp-cases-')
  let store: Store
  let cases: CaseStore
  beforeEach(async () => {
    store = fresh.store
    expect(fresh.migrated).toContain('0004-awaab-cases')
    cases = createCaseStore(store.db)
  })

  it('creates the tables once', async () => {
    expect(await migrateToLatest(store)).toEqual([])
    const tables = (await store.db.introspection.getTables()).map((t) => t.name)
    expect(tables).toEqual(expect.arrayContaining(['cases', 'case_events']))
  })

  it('opens a case with its first trail entry and gives back the same facts and times', async () => {
    const r = await cases.create(newCase({ note: 'reported by the tenant on the phone' }))
    if (!r.ok) throw new Error('create refused')
    expect(r.record).toEqual({
      case: {
        id: r.record.case.id,
        category: 'significant',
        hazard: 'damp-mould',
        triagedAt: T0,
        state: 'open',
        steps: {},
        preventativeRequired: true,
        sourceAlertId: ALERT_A,
      },
      deviceId: 'room-1',
      site: 'block-a',
      createdBy: 'alice',
      createdAt: iso(T0 + 1000),
      updatedAt: iso(T0 + 1000),
    })
    expect(r.record.case.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(await cases.get(r.record.case.id)).toEqual(r.record)
    expect(await cases.events(r.record.case.id)).toEqual([
      {
        id: expect.any(Number),
        caseId: r.record.case.id,
        at: iso(T0),
        recordedAt: iso(T0 + 1000),
        actor: 'alice',
        kind: 'opened',
        step: null,
        from: null,
        to: 'open',
        note: 'reported by the tenant on the phone',
        evidence: null,
      },
    ])
    expect(await cases.get('00000000-0000-4000-8000-000000000000')).toBeNull()
  })

  it("refuses a case triaged before Awaab's Law came into force, and keeps nothing of it", async () => {
    await expect(cases.create(newCase({ triagedAt: Date.parse('2025-10-26T23:00:00Z') }))).rejects.toThrow(/27 October 2025/)
    expect(await cases.list()).toEqual([])
  })

  it('keeps one open case per alert; a closed or cancelled one makes way for a new one', async () => {
    const first = await opened(cases)
    expect(await cases.create(newCase())).toEqual({ ok: false, code: 'CONFLICT', openCaseId: first.case.id })
    expect((await cases.openCaseOfAlert(ALERT_A))?.case.id).toBe(first.case.id)
    // Another alert, and cases without an alert, are not held back.
    await opened(cases, { alertId: ALERT_B })
    await opened(cases, { alertId: null })
    await opened(cases, { alertId: null })

    const cancel = await cases.update(
      first.case.id,
      (c) => transition(c, 'cancelled', T0 + HOUR),
      event(T0 + HOUR, { kind: 'state-changed' }),
    )
    expect(cancel).toMatchObject({ ok: true, record: { case: { state: 'cancelled' } } })
    expect(await cases.openCaseOfAlert(ALERT_A)).toBeNull()
    const second = await opened(cases, { triagedAt: T0 + 2 * HOUR, now: T0 + 2 * HOUR })
    expect((await cases.list({ alertId: ALERT_A })).map((r) => [r.case.id, r.case.state])).toEqual([
      [second.case.id, 'open'],
      [first.case.id, 'cancelled'],
    ])
    // Only the open ones, asked of the store (a housing officer's digest): the cancelled one is left out.
    expect((await cases.list({ alertId: ALERT_A, open: true })).map((r) => r.case.id)).toEqual([second.case.id])
  })

  it('lets only one of two officers triaging the same alert at once open the case', async () => {
    const results = await Promise.all([cases.create(newCase()), cases.create(newCase({ createdBy: 'bob' }))])
    expect(results.filter((r) => r.ok)).toHaveLength(1)
    const refused = results.find((r) => !r.ok)
    const won = results.find((r) => r.ok)
    expect(refused).toEqual({ ok: false, code: 'CONFLICT', openCaseId: won?.ok ? won.record.case.id : 'none' })
    expect(await cases.list()).toHaveLength(1)
  })

  it('lists newest triage first, filtered by state, site, device and alert, up to a limit', async () => {
    const a = await opened(cases, { alertId: null, triagedAt: T0 })
    const b = await opened(cases, { alertId: null, triagedAt: T0 + 2 * HOUR, site: 'block-b', deviceId: 'room-2' })
    const c = await opened(cases, { alertId: ALERT_B, triagedAt: T0 + HOUR, deviceId: null, category: 'emergency' })
    await cases.update(a.case.id, (x) => applyStep(x, 'investigated', T0 + 3 * HOUR), event(T0 + 3 * HOUR))
    const ids = (rs: { case: { id: string } }[]) => rs.map((r) => r.case.id)

    expect(ids(await cases.list())).toEqual([b.case.id, c.case.id, a.case.id])
    expect(ids(await cases.list({ limit: 2 }))).toEqual([b.case.id, c.case.id])
    expect(ids(await cases.list({ state: 'open' }))).toEqual([b.case.id, c.case.id])
    expect(ids(await cases.list({ state: 'investigated' }))).toEqual([a.case.id])
    expect(ids(await cases.list({ site: 'block-a' }))).toEqual([c.case.id, a.case.id])
    expect(ids(await cases.list({ deviceId: 'room-2' }))).toEqual([b.case.id])
    expect(ids(await cases.list({ alertId: ALERT_B }))).toEqual([c.case.id])
    expect(ids(await cases.list({ site: 'block-b', state: 'investigated' }))).toEqual([])
  })

  it('records steps and state changes with the trail, and refuses what the state machine refuses', async () => {
    const c = await opened(cases)
    const id = c.case.id
    const step = (s: CaseStep, at: number) => cases.update(id, (x) => applyStep(x, s, at), event(at, { step: s, note: `${s} done` }))

    // Not yet: the summary reports the investigation's findings.
    expect(await step('summarySent', T0 + HOUR)).toEqual({
      ok: false,
      code: 'CONFLICT',
      reason: 'summarySent cannot be recorded before the investigation',
    })
    expect(await step('preventativeBegun', T0 + HOUR)).toEqual({
      ok: false,
      code: 'CONFLICT',
      reason: 'preventativeBegun cannot be recorded: cannot go from open to preventative-works',
    })
    const inv = await step('investigated', T0 + 24 * HOUR)
    expect(inv).toMatchObject({
      ok: true,
      record: { case: { state: 'investigated', hazardFound: true, steps: { investigated: T0 + 24 * HOUR } } },
    })
    expect(await step('investigated', T0 + 25 * HOUR)).toMatchObject({ ok: false, reason: 'investigated already recorded' })
    const summary = await step('summarySent', T0 + 48 * HOUR)
    expect(summary).toMatchObject({ ok: true, record: { case: { state: 'investigated' }, updatedAt: iso(T0 + 48 * HOUR + 500) } })
    const closed = await cases.update(id, (x) => transition(x, 'closed', T0 + 49 * HOUR), event(T0 + 49 * HOUR, { kind: 'state-changed' }))
    expect(closed).toEqual({ ok: false, code: 'CONFLICT', reason: 'cannot go from investigated to closed' })
    expect(await step('madeSafe', T0 + 72 * HOUR)).toMatchObject({ ok: true, record: { case: { state: 'made-safe' } } })
    expect(await cases.update('00000000-0000-4000-8000-000000000000', (x) => applyStep(x, 'madeSafe', T0), event(T0))).toEqual({
      ok: false,
      code: 'NOT_FOUND',
    })

    const stored = await cases.get(id)
    expect(stored?.case.steps).toEqual({ investigated: T0 + 24 * HOUR, summarySent: T0 + 48 * HOUR, madeSafe: T0 + 72 * HOUR })
    // Refusals leave no trace; the trail is in the order entered, each with its move when it made one.
    expect((await cases.events(id)).map((e) => [e.kind, e.step, e.from, e.to, e.at, e.actor])).toEqual([
      ['opened', null, null, 'open', iso(T0), 'alice'],
      ['step-recorded', 'investigated', 'open', 'investigated', iso(T0 + 24 * HOUR), 'bob'],
      ['step-recorded', 'summarySent', null, null, iso(T0 + 48 * HOUR), 'bob'],
      ['step-recorded', 'madeSafe', 'investigated', 'made-safe', iso(T0 + 72 * HOUR), 'bob'],
    ])
  })

  it('keeps notes and evidence in the trail in the order entered, even when backdated', async () => {
    const c = await opened(cases)
    const id = c.case.id
    const evidence = { description: 'photo of the bedroom wall', reference: 'https://files.example.gov.uk/cases/wall.jpg' }
    const n1 = await cases.addEvent(id, event(T0 + 5 * HOUR, { kind: 'note', note: 'tenant called back', actor: 'carol' }))
    const n2 = await cases.addEvent(id, event(T0 + 2 * HOUR, { kind: 'evidence', note: 'taken at the visit', evidence }))
    expect(n2).toMatchObject({ kind: 'evidence', evidence, note: 'taken at the visit', at: iso(T0 + 2 * HOUR), from: null, to: null })
    expect(n2!.id).toBeGreaterThan(n1!.id)
    expect((await cases.events(id)).map((e) => [e.kind, e.actor, e.evidence])).toEqual([
      ['opened', 'alice', null],
      ['note', 'carol', null],
      ['evidence', 'bob', evidence],
    ])
    expect((await cases.get(id))?.updatedAt).toBe(iso(T0 + 2 * HOUR + 500))
    expect(await cases.addEvent('00000000-0000-4000-8000-000000000000', event(T0, { kind: 'note', note: 'x' }))).toBeNull()
  })

  it('loses no step when several are recorded at once, and records a repeated one only once', async () => {
    const c = await opened(cases)
    const id = c.case.id
    await cases.update(id, (x) => applyStep(x, 'investigated', T0 + HOUR), event(T0 + HOUR))
    const at = T0 + 2 * HOUR
    const results = await Promise.all(
      (['summarySent', 'madeSafe', 'preventativeOnSite', 'summarySent'] as const).map((s) =>
        cases.update(id, (x) => applyStep(x, s, at), event(at, { step: s })),
      ),
    )
    expect(results.map((r) => r.ok).sort()).toEqual([false, true, true, true])
    expect(results.find((r) => !r.ok)).toEqual({ ok: false, code: 'CONFLICT', reason: 'summarySent already recorded' })
    expect((await cases.get(id))?.case).toMatchObject({
      state: 'made-safe',
      steps: { investigated: T0 + HOUR, summarySent: at, madeSafe: at, preventativeOnSite: at },
    })
    expect((await cases.events(id)).filter((e) => e.kind === 'step-recorded')).toHaveLength(4)
  })
})
