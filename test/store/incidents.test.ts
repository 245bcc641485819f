import { beforeEach, describe, expect, it } from 'vitest'
import { OFFLINE_RULE } from '#devices'
import { type AlertStore, createAlertStore, type RaiseInput } from '../../store/alert-store.ts'
import type { Store } from '../../store/db.ts'
import { createIncidentStore, type IncidentStore } from '../../store/incident-store.ts'
import { freshStore, STORE_ADAPTERS } from '../helpers/stores.ts'

const T0 = Date.parse('2026-03-02T08:00:00.000Z')
const MIN = 60_000
const iso = (ms: number) => new Date(ms).toISOString()
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

const offline = (deviceId: string, ts: number, incidentId?: string, site = 'north-street'): RaiseInput => ({
  deviceId,
  deviceType: 'bin',
  site,
  rule: OFFLINE_RULE,
  value: 3600,
  ts,
  incidentId,
})
const back = (deviceId: string, at: number) => ({ deviceId, ruleId: OFFLINE_RULE.id, at })

describe.each(STORE_ADAPTERS)('incident store on %s', (_dialect, open) => {
  const fresh = freshStore(open, 'sp-incidents-')
  let store: Store
  let alerts: AlertStore
  let incidents: IncidentStore
  beforeEach(async () => {
    store = fresh.store
    expect(fresh.migrated).toContain('0007-incidents')
    alerts = createAlertStore(store.db)
    incidents = createIncidentStore(store.db)
  })

  it('opens an incident with nothing counted until its alerts are', async () => {
    const opened = await incidents.open('north-street', T0, 3)
    expect(opened).toEqual({
      id: expect.stringMatching(UUID),
      site: 'north-street',
      kind: 'site-silent',
      title: '3 devices at north-street stopped reporting together',
      status: 'open',
      openedAt: iso(T0),
      clearedAt: null,
      devices: 0,
      silent: 0,
    })
    expect(await incidents.get(opened.id)).toEqual(opened)
    expect(await incidents.openIncidents()).toEqual([opened])
    // No alert grouped under it yet: an incident with no devices is not "all back", it stays open.
    expect(await incidents.refresh(opened.id, T0 + MIN)).toEqual(opened)
    expect(await incidents.get('00000000-0000-4000-8000-000000000000')).toBeNull()
    expect(await incidents.refresh('00000000-0000-4000-8000-000000000000', T0)).toBeNull()
  })

  it('counts the devices grouped under it and those still silent, and clears once all are back', async () => {
    const inc = await incidents.open('north-street', T0, 3)
    const other = await incidents.open('mill-lane', T0, 2)
    for (const id of ['bin-1', 'bin-2', 'bin-3']) expect(await alerts.raise(offline(id, T0, inc.id))).toMatchObject({ incidentId: inc.id })
    // Not grouped under it: an offline alert of its own, one on the same site without an incident, one under another incident.
    expect(await alerts.raise(offline('bin-4', T0))).toMatchObject({ incidentId: null })
    await alerts.raise(offline('lane-1', T0, other.id, 'mill-lane'))

    expect(await incidents.refresh(inc.id, T0 + MIN)).toMatchObject({ status: 'open', devices: 3, silent: 3, clearedAt: null })
    expect(await incidents.refresh(other.id, T0 + MIN)).toMatchObject({ status: 'open', devices: 1, silent: 1 })

    // An acknowledged offline alert is still a silent device.
    const [first] = await alerts.list({ deviceId: 'bin-1' })
    expect(await alerts.acknowledge(first!.id, 'alice', new Date(T0 + MIN))).toMatchObject({ status: 'acknowledged' })
    expect(await incidents.refresh(inc.id, T0 + MIN)).toMatchObject({ devices: 3, silent: 3 })

    // One back through the alert store, one through an engine batch: recounted, still open.
    expect(await alerts.clear(back('bin-2', T0 + 2 * MIN))).toMatchObject({ status: 'cleared', incidentId: inc.id })
    await alerts.commitBatch({
      reader: 'alerts',
      checkpoint: { segment: 0, offset: 10 },
      states: [],
      raise: [],
      clear: [back('bin-3', T0 + 3 * MIN)],
    })
    // bin-4 coming back is nothing to this incident.
    await alerts.clear(back('bin-4', T0 + 3 * MIN))
    expect(await incidents.refresh(inc.id, T0 + 3 * MIN)).toMatchObject({ status: 'open', devices: 3, silent: 1, clearedAt: null })
    expect((await incidents.openIncidents()).map((i) => i.id).sort()).toEqual([inc.id, other.id].sort())

    // The last one back: the incident clears at the time of the recount.
    await alerts.commitBatch({
      reader: 'alerts',
      checkpoint: { segment: 0, offset: 20 },
      states: [],
      raise: [],
      clear: [back('bin-1', T0 + 4 * MIN)],
    })
    const cleared = await incidents.refresh(inc.id, T0 + 5 * MIN)
    expect(cleared).toEqual({ ...inc, status: 'cleared', clearedAt: iso(T0 + 5 * MIN), devices: 3, silent: 0 })
    expect(await incidents.get(inc.id)).toEqual(cleared)
    expect(await incidents.openIncidents()).toEqual([expect.objectContaining({ id: other.id, status: 'open' })])

    // A cleared incident stays as it ended: a later recount changes neither its time nor its counts.
    await alerts.raise(offline('bin-1', T0 + 10 * MIN, inc.id))
    expect(await incidents.refresh(inc.id, T0 + 11 * MIN)).toEqual(cleared)

    // Its alerts are found by incident, each carrying it.
    const grouped = await alerts.list({ incidentId: other.id })
    expect(grouped.map((a) => [a.deviceId, a.ruleId, a.status, a.incidentId])).toEqual([['lane-1', 'device-offline', 'active', other.id]])
  })

  it('a person resolving an offline alert does not bring its device back: only the data does', async () => {
    const inc = await incidents.open('north-street', T0, 2)
    const a = (await alerts.raise(offline('bin-a', T0, inc.id)))!
    await alerts.raise(offline('bin-b', T0, inc.id))
    expect(
      await alerts.command(a.id, { command: 'resolve', note: 'gateway ticket raised' }, 'officer', new Date(T0 + 1_000)),
    ).toMatchObject({
      ok: true,
    })
    expect(await incidents.refresh(inc.id, T0 + 2_000)).toMatchObject({ status: 'open', devices: 2, silent: 2 })
    await alerts.clear(back('bin-a', T0 + 3_000))
    await alerts.clear(back('bin-b', T0 + 3_000))
    expect(await incidents.refresh(inc.id, T0 + 4_000)).toMatchObject({ status: 'cleared', silent: 0 })
  })

  it('lists incidents newest first, by status and site, up to a limit', async () => {
    const a = await incidents.open('north-street', T0, 5)
    const b = await incidents.open('mill-lane', T0 + MIN, 4)
    await alerts.raise(offline('bin-1', T0, a.id))
    await alerts.clear(back('bin-1', T0 + MIN))
    expect(await incidents.refresh(a.id, T0 + MIN)).toMatchObject({ status: 'cleared' })
    const c = await incidents.open('north-street', T0 + 2 * MIN, 6)

    const ids = (list: { id: string }[]) => list.map((i) => i.id)
    expect(ids(await incidents.list())).toEqual([c.id, b.id, a.id])
    expect(ids(await incidents.list({ status: 'open' }))).toEqual([c.id, b.id])
    expect(ids(await incidents.list({ status: 'cleared' }))).toEqual([a.id])
    expect(ids(await incidents.list({ site: 'north-street' }))).toEqual([c.id, a.id])
    expect(ids(await incidents.list({ site: 'north-street', status: 'open' }))).toEqual([c.id])
    expect(ids(await incidents.list({ site: 'nowhere' }))).toEqual([])
    expect(ids(await incidents.list({ limit: 2 }))).toEqual([c.id, b.id])
    expect(ids(await incidents.list({ site: 'north-street', limit: 1 }))).toEqual([c.id])
  })

  it('keeps one open incident per site: a second opening joins it, and a new one opens once it cleared', async () => {
    const first = await incidents.openOrJoin('north-street', T0, 3)
    expect(first).toMatchObject({ created: true, incident: { site: 'north-street', status: 'open' } })
    expect(await incidents.isOpen(first.incident.id)).toBe(true)
    // Another partition's engine sees the same silence a moment later.
    const second = await incidents.openOrJoin('north-street', T0 + 1_000, 2)
    expect(second).toEqual({ created: false, incident: first.incident })
    expect(await incidents.openOrJoin('mill-lane', T0, 2)).toMatchObject({ created: true, incident: { site: 'mill-lane' } })
    await alerts.raise(offline('bin-1', T0, first.incident.id))
    await alerts.clear(back('bin-1', T0 + MIN))
    await incidents.refresh(first.incident.id, T0 + MIN)
    expect(await incidents.isOpen(first.incident.id)).toBe(false)
    const next = await incidents.openOrJoin('north-street', T0 + 2 * MIN, 4)
    expect(next.created).toBe(true)
    expect(next.incident.id).not.toBe(first.incident.id)
    expect(await incidents.isOpen('00000000-0000-4000-8000-000000000000')).toBe(false)
  })
})
