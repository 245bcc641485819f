import { beforeEach, describe, expect, it } from 'vitest'
import { REOPEN_WITHIN_MS } from '#devices'
import { type AlertStore, createAlertStore, type RaiseInput } from '../../store/alert-store.ts'
import type { Store } from '../../store/db.ts'
import { freshStore, STORE_ADAPTERS } from '../helpers/stores.ts'

const T0 = Date.parse('2026-03-02T08:00:00.000Z')
const MIN = 60_000
const HOUR = 60 * MIN
const iso = (ms: number) => new Date(ms).toISOString()
const at = (ms: number) => new Date(ms)

const fire = (ts: number, value = 72): RaiseInput => ({
  deviceId: 'bin-7',
  deviceType: 'bin',
  site: 'market-square',
  rule: { id: 'bin-fire', title: 'Possible bin fire', severity: 'critical', text: 'The bin is hotter than 60 °C: it may be on fire.' },
  value,
  detail: { risePerReading: 18.5, lidOpen: false, forecastAt: null },
  ts,
})
const clearFire = (ms: number, value = 20) => ({ deviceId: 'bin-7', ruleId: 'bin-fire', at: ms, value })
const batch = (raise: RaiseInput[], clear: ReturnType<typeof clearFire>[] = []) => ({
  reader: 'alerts',
  checkpoint: { segment: 0, offset: 0 },
  states: [],
  raise,
  clear,
})

/** History entries as [action, actor, from, to, note]: the parts a person reads. */
const trail = async (alerts: AlertStore, id: string) =>
  (await alerts.history({ alertId: id })).map((e) => [e.action, e.actor, e.from, e.to, e.note])

describe.each(STORE_ADAPTERS)('alert lifecycle on %s', (_dialect, open) => {
  const fresh = freshStore(open, 'sp-lifecycle-')
  let store: Store
  let alerts: AlertStore
  beforeEach(async () => {
    store = fresh.store
    expect(fresh.migrated).toContain('0003-alert-lifecycle')
    alerts = createAlertStore(store.db)
  })

  it("a clear with the rule's final figures puts them on the alert and in its history", async () => {
    const a = (await alerts.raise(fire(T0)))!
    const c = await alerts.clear({ ...clearFire(T0 + HOUR), detail: { wastedKwh: 40, costGbp: 10 } })
    expect(c).toMatchObject({ id: a.id, status: 'cleared', detail: { wastedKwh: 40, costGbp: 10 } })
    const h = await alerts.history({ alertId: a.id })
    expect(h.at(-1)).toMatchObject({ action: 'cleared', detail: { wastedKwh: 40, costGbp: 10 } })
  })

  it('escalates an active alert once, with its history; an acknowledged or cleared one is left as it is', async () => {
    const noHeat: RaiseInput = { ...fire(T0), rule: { id: 'boiler-no-heat', title: 'No heat', severity: 'warning' } }
    const a = (await alerts.raise(noHeat))!
    const up = await alerts.escalate(a.id, 'critical', T0 + 4 * HOUR)
    expect(up?.alert).toMatchObject({ id: a.id, severity: 'critical', status: 'active' })
    expect(up?.entry).toMatchObject({ action: 'escalated', actor: 'system', from: 'active', to: 'active', at: iso(T0 + 4 * HOUR) })
    expect(await alerts.escalate(a.id, 'critical', T0 + 5 * HOUR)).toBeNull()

    const b = (await alerts.raise({ ...noHeat, ts: T0 + HOUR, deviceId: 'boiler-2' }))!
    await alerts.command(b.id, { command: 'acknowledge' }, 'officer', at(T0 + 2 * HOUR))
    expect(await alerts.escalate(b.id, 'critical', T0 + 5 * HOUR)).toBeNull()
    expect((await alerts.get(b.id))!.severity).toBe('warning')
    expect((await trail(alerts, a.id)).map(([action]) => action)).toEqual(['raised', 'escalated'])
  })

  it("stores and serves the rule's text and detail", async () => {
    const a = await alerts.raise(fire(T0))
    expect(a).toMatchObject({
      status: 'active',
      text: fire(T0).rule.text,
      detail: { risePerReading: 18.5, lidOpen: false, forecastAt: null },
    })
    expect(await alerts.get(a!.id)).toEqual(a)
    const [raised] = await alerts.history({ alertId: a!.id })
    expect(raised).toMatchObject({
      action: 'raised',
      from: null,
      to: 'active',
      detail: { risePerReading: 18.5, lidOpen: false, forecastAt: null },
    })
    const plain = await alerts.raise({
      ...fire(T0 + MIN),
      rule: { id: 'bin-full', title: 'Bin full', severity: 'warning' },
      detail: undefined,
    })
    expect(plain).toMatchObject({ text: null, detail: null })
  })

  it('acknowledges with a comment, assigns, snoozes, unsnoozes, resolves and reopens, each in the history', async () => {
    const { id } = (await alerts.raise(fire(T0)))!
    const ack = await alerts.command(id, { command: 'acknowledge', comment: 'crew on the way' }, 'alice', at(T0 + MIN))
    expect(ack).toMatchObject({
      ok: true,
      action: 'acknowledged',
      alert: { status: 'acknowledged', acknowledgedBy: 'alice', acknowledgedAt: iso(T0 + MIN), acknowledgedComment: 'crew on the way' },
      entry: { action: 'acknowledged', actor: 'alice', at: iso(T0 + MIN), from: 'active', to: 'acknowledged', note: 'crew on the way' },
    })
    const assigned = await alerts.command(id, { command: 'assign', to: 'North crew', note: 'nearest' }, 'alice', at(T0 + 2 * MIN))
    expect(assigned).toMatchObject({
      ok: true,
      alert: { status: 'acknowledged', assignedTo: 'North crew' },
      entry: { action: 'assigned', assignedTo: 'North crew', from: 'acknowledged', to: 'acknowledged', note: 'nearest' },
    })
    const until = T0 + 4 * HOUR
    const snoozed = await alerts.command(id, { command: 'snooze', until: at(until) }, 'bob', at(T0 + 3 * MIN))
    expect(snoozed).toMatchObject({ ok: true, alert: { snoozedUntil: iso(until) }, entry: { action: 'snoozed', snoozedUntil: iso(until) } })
    expect(await alerts.command(id, { command: 'unsnooze' }, 'bob', at(T0 + 4 * MIN))).toMatchObject({
      ok: true,
      alert: { snoozedUntil: null, status: 'acknowledged' },
    })
    const resolved = await alerts.command(
      id,
      { command: 'resolve', note: 'lid closed, smouldering litter removed' },
      'carol',
      at(T0 + HOUR),
    )
    expect(resolved).toMatchObject({
      ok: true,
      alert: {
        status: 'resolved',
        resolvedBy: 'carol',
        resolvedAt: iso(T0 + HOUR),
        resolvedNote: 'lid closed, smouldering litter removed',
      },
      entry: { from: 'acknowledged', to: 'resolved' },
    })
    const reopened = await alerts.command(id, { command: 'reopen', note: 'still smoking' }, 'dave', at(T0 + 2 * HOUR))
    expect(reopened).toMatchObject({
      ok: true,
      action: 'reopened',
      // Who acknowledged and resolved it is history now; the assignment stays.
      alert: { status: 'active', resolvedBy: null, resolvedNote: null, acknowledgedBy: null, assignedTo: 'North crew' },
    })

    expect(await trail(alerts, id)).toEqual([
      ['raised', 'system', null, 'active', null],
      ['acknowledged', 'alice', 'active', 'acknowledged', 'crew on the way'],
      ['assigned', 'alice', 'acknowledged', 'acknowledged', 'nearest'],
      ['snoozed', 'bob', 'acknowledged', 'acknowledged', null],
      ['unsnoozed', 'bob', 'acknowledged', 'acknowledged', null],
      ['resolved', 'carol', 'acknowledged', 'resolved', 'lid closed, smouldering litter removed'],
      ['reopened', 'dave', 'resolved', 'active', 'still smoking'],
    ])
    expect((await alerts.history({ alertId: id })).map((e) => e.at)).toEqual(
      [T0, T0 + MIN, T0 + 2 * MIN, T0 + 3 * MIN, T0 + 4 * MIN, T0 + HOUR, T0 + 2 * HOUR].map(iso),
    )
  })

  it('refuses transitions that do not apply, saying the status and what is possible', async () => {
    const { id } = (await alerts.raise(fire(T0)))!
    expect(await alerts.command(id, { command: 'reopen' }, 'alice', at(T0))).toEqual({
      ok: false,
      code: 'INVALID_TRANSITION',
      message:
        'cannot reopen an alert that is active: reopen applies only to resolved or cleared alerts. Possible now: acknowledge, assign, snooze, unsnooze, resolve.',
    })
    const unsnooze = await alerts.command(id, { command: 'unsnooze' }, 'alice', at(T0))
    expect(unsnooze).toMatchObject({ ok: false, code: 'INVALID_TRANSITION', message: 'cannot unsnooze an alert that is not snoozed' })
    await alerts.command(id, { command: 'snooze', until: at(T0 + HOUR) }, 'alice', at(T0))
    // Once the snooze has run out there is nothing to end.
    expect(await alerts.command(id, { command: 'unsnooze' }, 'alice', at(T0 + 2 * HOUR))).toMatchObject({
      ok: false,
      message: `cannot unsnooze an alert that is not snoozed (its snooze ended at ${iso(T0 + HOUR)})`,
    })
    await alerts.command(id, { command: 'acknowledge' }, 'alice', at(T0))
    const again = await alerts.command(id, { command: 'acknowledge' }, 'bob', at(T0 + MIN))
    expect(again).toMatchObject({ ok: false, code: 'INVALID_TRANSITION' })
    expect(!again.ok && again.message).toMatch(
      /^cannot acknowledge an alert that is acknowledged: .* Possible now: assign, snooze, unsnooze, resolve\.$/,
    )
    expect(await alerts.acknowledge(id, 'bob', at(T0 + MIN))).toBe('not-open')

    await alerts.clear(clearFire(T0 + HOUR))
    const resolve = await alerts.command(id, { command: 'resolve', note: 'done' }, 'alice', at(T0 + 2 * HOUR))
    expect(resolve).toMatchObject({ ok: false, code: 'INVALID_TRANSITION' })
    expect(!resolve.ok && resolve.message).toMatch(/^cannot resolve an alert that is cleared: .* Possible now: reopen\.$/)
    for (const command of ['assign', 'snooze'] as const) {
      const r = await alerts.command(id, command === 'assign' ? { command, to: 'x' } : { command, until: at(T0 + 3 * HOUR) }, 'a', at(T0))
      expect(r).toMatchObject({ ok: false, code: 'INVALID_TRANSITION' })
    }
    expect(await alerts.command('0f0e0d0c-0b0a-4908-8706-050403020100', { command: 'reopen' }, 'a', at(T0))).toMatchObject({
      ok: false,
      code: 'NOT_FOUND',
    })
    // A refusal writes nothing.
    expect((await trail(alerts, id)).map(([action]) => action)).toEqual(['raised', 'snoozed', 'acknowledged', 'cleared'])
  })

  it('a data clear of a resolved alert keeps it resolved; its condition returning within 7 days reopens it', async () => {
    const [raised] = await alerts.commitBatch(batch([fire(T0)]))
    const { id } = raised!.alert
    await alerts.command(id, { command: 'resolve', note: 'emptied and cooled' }, 'carol', at(T0 + HOUR))
    // The reading that raised it, redelivered, does not reopen it.
    expect(await alerts.commitBatch(batch([fire(T0)]))).toEqual([])

    const [cleared] = await alerts.commitBatch(batch([], [clearFire(T0 + 2 * HOUR)]))
    expect(cleared).toMatchObject({
      action: 'cleared',
      alert: { id, status: 'resolved', clearedAt: iso(T0 + 2 * HOUR), resolvedBy: 'carol' },
    })
    expect(await alerts.open()).toEqual([])

    const back = T0 + 3 * 24 * HOUR
    const changes = await alerts.commitBatch(batch([fire(back, 81)]))
    expect(changes).toEqual([{ action: 'raised', alert: expect.objectContaining({ id, status: 'active', value: 81, clearedAt: null }) }])
    expect(changes[0]!.alert).toMatchObject({ raisedAt: iso(T0), resolvedAt: null, resolvedBy: null })
    expect(await alerts.list()).toHaveLength(1)
    const entries = await alerts.history({ alertId: id })
    expect(entries.map((e) => [e.action, e.actor, e.from, e.to, e.value])).toEqual([
      ['raised', 'system', null, 'active', 72],
      ['resolved', 'carol', 'active', 'resolved', null],
      ['cleared', 'system', 'resolved', 'resolved', 20],
      ['reopened', 'system', 'resolved', 'active', 81],
    ])
    expect(entries.at(-1)).toMatchObject({ at: iso(back), detail: fire(back).detail })

    // Redelivered: nothing happens, whether the alert is still active or a person has resolved it again.
    expect(await alerts.commitBatch(batch([fire(back, 81)]))).toEqual([])
    expect(await alerts.raise(fire(back, 81))).toBeNull()
    await alerts.command(id, { command: 'resolve', note: 'replaced the bin' }, 'carol', at(back + HOUR))
    expect(await alerts.commitBatch(batch([fire(back, 81)]))).toEqual([])
    expect((await alerts.get(id))!.status).toBe('resolved')
    // A later reading reopens it again; the first reopening's reading, replayed after that, still does nothing.
    await alerts.commitBatch(batch([], [clearFire(back + 2 * HOUR)]))
    expect((await alerts.commitBatch(batch([fire(back + 3 * HOUR)])))[0]!.alert.id).toBe(id)
    await alerts.command(id, { command: 'resolve', note: 'again' }, 'carol', at(back + 4 * HOUR))
    expect(await alerts.commitBatch(batch([fire(back, 81)]))).toEqual([])
    expect((await trail(alerts, id)).filter(([action]) => action === 'reopened')).toHaveLength(2)
    expect(await alerts.list()).toHaveLength(1)
  })

  it('raises a new alert when the resolved one was resolved more than 7 days before the reading', async () => {
    const first = (await alerts.raise(fire(T0)))!
    await alerts.command(first.id, { command: 'resolve', note: 'fixed' }, 'carol', at(T0 + HOUR))
    await alerts.clear(clearFire(T0 + 2 * HOUR))
    const second = await alerts.raise(fire(T0 + HOUR + REOPEN_WITHIN_MS + 1))
    expect(second).toMatchObject({ status: 'active', raisedAt: iso(T0 + HOUR + REOPEN_WITHIN_MS + 1) })
    expect(second!.id).not.toBe(first.id)
    expect(await alerts.get(first.id)).toMatchObject({ status: 'resolved', resolvedNote: 'fixed' })
    // A cleared alert is never reopened by the data: the next occurrence is a new alert.
    await alerts.clear(clearFire(T0 + REOPEN_WITHIN_MS + 3 * HOUR))
    const third = await alerts.raise(fire(T0 + REOPEN_WITHIN_MS + 4 * HOUR))
    expect(new Set([first.id, second!.id, third!.id]).size).toBe(3)
  })

  it('keeps a cleared alert a person reopened until a person resolves it', async () => {
    const { id } = (await alerts.raise(fire(T0)))!
    await alerts.clear(clearFire(T0 + HOUR))
    const reopened = await alerts.command(id, { command: 'reopen', note: 'sensor was wet, check it' }, 'alice', at(T0 + 2 * HOUR))
    expect(reopened).toMatchObject({
      ok: true,
      alert: { status: 'active', clearedAt: iso(T0 + HOUR) },
      entry: { from: 'cleared', to: 'active' },
    })
    // The data already cleared it once: a further clear is not of this alert.
    expect(await alerts.clear(clearFire(T0 + 3 * HOUR))).toBeNull()
    expect((await alerts.get(id))!.status).toBe('active')
  })

  it('lists by status, assignee, snooze and rule; closed alerts stay findable', async () => {
    const a = (await alerts.raise(fire(T0)))!
    const b = (await alerts.raise({ ...fire(T0 + MIN), rule: { id: 'bin-full', title: 'Bin full', severity: 'warning' } }))!
    const c = (await alerts.raise({ ...fire(T0 + 2 * MIN), deviceId: 'bin-8' }))!
    const d = (await alerts.raise({ ...fire(T0 + 3 * MIN), deviceId: 'bin-9' }))!
    await alerts.command(a.id, { command: 'acknowledge' }, 'alice', at(T0))
    await alerts.command(a.id, { command: 'assign', to: 'North crew' }, 'alice', at(T0))
    await alerts.command(b.id, { command: 'snooze', until: at(T0 + HOUR) }, 'alice', at(T0))
    await alerts.command(c.id, { command: 'resolve', note: 'false alarm' }, 'alice', at(T0))
    await alerts.clear({ deviceId: 'bin-9', ruleId: 'bin-fire', at: T0 + HOUR })
    const ids = async (f: Parameters<AlertStore['list']>[0], now = at(T0 + 10 * MIN)) => (await alerts.list(f, now)).map((x) => x.id)

    expect(await ids({})).toEqual([d.id, c.id, b.id, a.id])
    expect(await ids({ status: 'open' })).toEqual([b.id, a.id])
    expect(await ids({ status: 'active' })).toEqual([b.id])
    expect(await ids({ status: 'acknowledged' })).toEqual([a.id])
    expect(await ids({ status: 'resolved' })).toEqual([c.id])
    expect(await ids({ status: 'cleared' })).toEqual([d.id])
    expect(await ids({ assignedTo: 'North crew' })).toEqual([a.id])
    expect(await ids({ ruleId: 'bin-full' })).toEqual([b.id])
    expect(await ids({ snoozed: true })).toEqual([b.id])
    expect(await ids({ snoozed: false, status: 'open' })).toEqual([a.id])
    // After the snooze runs out nothing is snoozed.
    expect(await ids({ snoozed: true }, at(T0 + 2 * HOUR))).toEqual([])
    expect((await alerts.open()).map((x) => x.id)).toEqual([a.id, b.id])
  })
})
