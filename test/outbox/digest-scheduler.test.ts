import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import type { Grant } from '#devices'
import { createDigestContent, ownership } from '../../outbox/digest-content.ts'
import { createDigestScheduler } from '../../outbox/digest-scheduler.ts'
import { createAlertStore } from '../../store/alert-store.ts'
import { createAreaStore } from '../../store/area-store.ts'
import { createCaseStore } from '../../store/case-store.ts'
import { createOutboxStore } from '../../store/outbox-store.ts'
import { createPeopleStore, type PeopleStore } from '../../store/people-store.ts'
import { createPushStore } from '../../store/push-store.ts'
import { waitFor } from '../helpers/service.ts'
import { freshStore, STORE_ADAPTERS } from '../helpers/stores.ts'

const log = pino({ level: 'silent' })
const PREFS = { push: false, email: false, digest: true, quietHours: null }

const addPerson = async (people: PeopleStore, email: string, grants: Grant[], status: 'active' | 'disabled' = 'active') =>
  (
    await people.create({
      email,
      name: email.split('@')[0]!,
      grants,
      status,
      passwordHash: null,
      mustChangePassword: false,
      createdBy: 'test',
    })
  ).id

describe.each(STORE_ADAPTERS)('daily digests, store on %s', (_dialect, open) => {
  const s = freshStore(open, 'sp-digest-')

  it('makes one digest per person who chose it at DIGEST_HOUR London time, once a day, a restart making nothing twice', async () => {
    const db = s.store.db
    const people = createPeopleStore(db)
    const push = createPushStore(db)
    const outbox = createOutboxStore(db)
    const crew: Grant[] = [{ role: 'crew', areas: null }]
    const wants = await addPerson(people, 'wants@council.example', crew)
    const declines = await addPerson(people, 'declines@council.example', crew)
    const leaver = await addPerson(people, 'leaver@council.example', crew, 'disabled')
    await push.setPrefs(wants, PREFS)
    await push.setPrefs(leaver, PREFS)
    await push.setPrefs(declines, { ...PREFS, digest: false })

    // 06:59 GMT on 1 December is 06:59 in London: not yet.
    let clock = Date.parse('2026-12-01T06:59:00Z')
    let wakes = 0
    const scheduler = () =>
      createDigestScheduler({
        hour: 7,
        people: () => people.list(),
        prefs: (id) => push.prefs(id),
        enqueue: (d, at) => outbox.enqueue(d, at),
        wake: () => wakes++,
        log,
        now: () => clock,
        checkMs: 20,
      })
    const first = scheduler()
    first.start()
    await new Promise((r) => setTimeout(r, 100))
    expect(await outbox.list()).toEqual([])

    clock = Date.parse('2026-12-01T07:00:30Z')
    const made = await waitFor(async () => (await outbox.list()).length > 0 && outbox.list(), 2000)
    expect(made).toEqual([
      expect.objectContaining({
        eventId: `digest:${wants}:2026-12-01`,
        channel: 'email',
        target: wants,
        state: 'pending',
        nextAttemptAt: new Date(Date.parse('2026-12-01T07:00:30Z')).toISOString(),
      }),
    ])
    expect(JSON.parse(made[0]!.payload)).toEqual({ type: 'digest', personId: wants, date: '2026-12-01' })
    expect(wakes).toBe(1)
    // Later the same day, in this process: nothing more.
    clock = Date.parse('2026-12-01T15:00:00Z')
    await new Promise((r) => setTimeout(r, 100))
    await first.close()
    expect(await outbox.list()).toHaveLength(1)

    // A restart after the hour makes today's again: the unique key keeps it one, and no sender is woken for nothing.
    const second = scheduler()
    second.start()
    await new Promise((r) => setTimeout(r, 100))
    expect(await outbox.list()).toHaveLength(1)
    expect(wakes).toBe(1)
    // The next day: the next digest.
    clock = Date.parse('2026-12-02T07:00:01Z')
    await waitFor(async () => (await outbox.list()).length === 2, 2000)
    await second.close()
    expect((await outbox.list()).map((d) => d.eventId)).toEqual([`digest:${wants}:2026-12-02`, `digest:${wants}:2026-12-01`])
    expect(wakes).toBe(2)
  })

  it('lists what is open in the reader’s scope, critical then newest, their own marked; a housing officer’s open cases with their next deadline', async () => {
    const db = s.store.db
    const alerts = createAlertStore(db)
    const cases = createCaseStore(db)
    const areas = createAreaStore(db)
    await areas.put({ id: 'north', name: 'North', kind: 'estate', sites: ['block-a'] }, 'test')
    await areas.put({ id: 'south', name: 'South', kind: 'estate', sites: ['block-z'] }, 'test')
    const t0 = Date.parse('2026-12-01T06:00:00Z')
    const raise = (deviceId: string, site: string, ruleId: string, severity: 'critical' | 'warning', ts: number) =>
      alerts.raise({ deviceId, deviceType: 'boiler', site, rule: { id: ruleId, title: ruleId, severity }, value: 1, ts })
    const older = (await raise('boiler-1', 'block-a', 'no-heat', 'critical', t0))!
    const newer = (await raise('boiler-2', 'block-a', 'pressure-low', 'warning', t0 + 60_000))!
    const newest = (await raise('boiler-3', 'block-a', 'no-heat', 'critical', t0 + 120_000))!
    const done = (await raise('boiler-4', 'block-a', 'no-heat', 'critical', t0 + 180_000))!
    await raise('boiler-9', 'block-z', 'no-heat', 'critical', t0 + 240_000)
    const reader = { id: '5b1f6a9e-0c53-4bde-9d8c-2f3a4b5c6d7e', grants: [{ role: 'housing', areas: ['north'] }] as Grant[] }
    const at = new Date(t0 + 300_000)
    expect((await alerts.command(older.id, { command: 'assign', to: `person:${reader.id}` }, 'admin-token', at)).ok).toBe(true)
    expect((await alerts.command(newer.id, { command: 'assign', to: 'team:housing@north' }, 'admin-token', at)).ok).toBe(true)
    expect((await alerts.command(newest.id, { command: 'acknowledge' }, 'admin-token', at)).ok).toBe(true)
    expect((await alerts.command(done.id, { command: 'resolve', note: 'fixed' }, 'admin-token', at)).ok).toBe(true)
    const triagedAt = Date.parse('2026-11-30T09:00:00Z')
    const caseAt = (site: string, hazard: string) =>
      cases.create({
        alertId: null,
        deviceId: null,
        site,
        category: 'emergency',
        hazard,
        triagedAt,
        preventativeRequired: true,
        createdBy: 'test',
        now: triagedAt,
      })
    await caseAt('block-a', 'no-heat-winter')
    await caseAt('block-z', 'elsewhere')

    const content = createDigestContent({
      alerts,
      cases,
      sitesByArea: () => areas.sitesByArea(),
      deviceName: async (id) => `Boiler ${id.slice(-1)}`,
    })
    const now = Date.parse('2026-12-01T07:00:00Z')
    const got = await content(reader, now)
    expect(got.alerts.map((a) => [a.id, a.severity, a.status, a.mine, a.deviceName])).toEqual([
      [newest.id, 'critical', 'acknowledged', null, 'Boiler 3'],
      [older.id, 'critical', 'active', 'person', 'Boiler 1'],
      [newer.id, 'warning', 'active', 'team', 'Boiler 2'],
    ])
    expect(got.moreAlerts).toBe(0)
    // Emergency: 24 hours from triage at 09:00, so two hours left at 07:00 the next day.
    expect(got.cases).toEqual([
      expect.objectContaining({
        hazard: 'no-heat-winter',
        site: 'block-a',
        breached: false,
        next: { step: 'investigate', due: '2026-12-01T09:00:00.000Z', secondsLeft: 7200 },
      }),
    ])
    // A crew member sees no housing alert, and gets no cases section at all.
    const crewOnly = await content({ id: reader.id, grants: [{ role: 'crew', areas: null }] }, now)
    expect(crewOnly).toEqual({ alerts: [], moreAlerts: 0, cases: null, moreCases: 0 })
    expect(ownership('team:housing@all', reader)).toBeNull()
    expect(ownership('team:housing@all', { id: 'x', grants: [{ role: 'housing', areas: null }] })).toBe('team')
  })
})
