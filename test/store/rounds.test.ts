import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CollectionSchedule } from '../../devices/collections/index.ts'
import { createHasher } from '../../registry/credentials.ts'
import { migrateToLatest, type Store } from '../../store/db.ts'
import { createDeviceStore } from '../../store/device-store.ts'
import { createRoundStore, type NewCollection, type RoundChange, type RoundStore } from '../../store/round-store.ts'
import { type OpenedStore, STORE_ADAPTERS } from '../helpers/stores.ts'

const tempDir = () => mkdtempSync(join(tmpdir(), 'sp-rounds-'))

const T0 = Date.parse('2026-03-02T07:05:00.000Z')
const HOUR = 3_600_000
const iso = (ms: number) => new Date(ms).toISOString()
const monThu = CollectionSchedule.parse({ weekdays: [1, 4] })
const friday = CollectionSchedule.parse({ weekdays: [5], time: '06:30' })
const tuesday = CollectionSchedule.parse({ weekdays: [2], time: '09:00' })

const detected = (deviceId: string, at: number, levelBefore: number, over: Partial<NewCollection> = {}): NewCollection => ({
  deviceId,
  at,
  levelBefore,
  levelAfter: 0.02,
  wasted: levelBefore < 0.3,
  tilted: false,
  source: 'detected',
  actor: 'system:collection-detector',
  ...over,
})

describe.each(STORE_ADAPTERS)('round store on %s', (_dialect, open) => {
  let store: Store
  let drop: OpenedStore['drop']
  let dataDir: string
  let rounds: RoundStore
  let changes: RoundChange[]
  beforeEach(async () => {
    dataDir = tempDir()
    ;({ store, drop } = await open(dataDir))
    expect(await migrateToLatest(store)).toContain('0006-rounds')
    const devices = createDeviceStore(store.db, createHasher(randomBytes(32)))
    for (const id of ['bin-1', 'bin-2', 'bin-3', 'bin-4']) {
      const made = await devices.provision({ id, type: 'bin', name: id, site: 'leeds' })
      expect(made.ok).toBe(true)
    }
    rounds = createRoundStore(store.db)
    changes = []
    rounds.onChange((c) => changes.push(c))
  })
  afterEach(async () => {
    await store.close()
    await drop?.()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('creates, lists, updates and deletes rounds, with who and when', async () => {
    const made = await rounds.createRound({ id: 'north', name: 'North', site: 'leeds', schedule: monThu }, 'alice', new Date(T0))
    expect(made).toEqual({
      id: 'north',
      name: 'North',
      site: 'leeds',
      schedule: { weekdays: [1, 4], time: '07:00' },
      deviceIds: [],
      createdAt: iso(T0),
      createdBy: 'alice',
      updatedAt: iso(T0),
      updatedBy: 'alice',
    })
    expect(await rounds.createRound({ id: 'north', name: 'Again', site: null, schedule: friday }, 'bob')).toBeNull()
    const anon = await rounds.createRound({ name: 'Alpha', site: null, schedule: friday }, 'bob')
    expect(anon!.id).toMatch(/^[0-9a-f-]{36}$/)
    expect((await rounds.listRounds()).map((r) => r.name)).toEqual(['Alpha', 'North'])

    const edited = await rounds.updateRound('north', { name: 'North side', site: null, schedule: tuesday }, 'carol', new Date(T0 + HOUR))
    expect(edited).toMatchObject({
      name: 'North side',
      site: null,
      schedule: tuesday,
      createdBy: 'alice',
      updatedBy: 'carol',
      updatedAt: iso(T0 + HOUR),
    })
    expect(await rounds.updateRound('nope', { name: 'x', site: null, schedule: tuesday }, 'carol')).toBeNull()
    expect(await rounds.getRound('north')).toEqual(edited)

    expect(await rounds.deleteRound('north')).toBe(true)
    expect(await rounds.deleteRound('north')).toBe(false)
    expect(await rounds.getRound('north')).toBeNull()
    expect(changes).toEqual([
      { kind: 'round', id: 'north', schedule: monThu },
      { kind: 'round', id: anon!.id, schedule: friday },
      { kind: 'round', id: 'north', schedule: tuesday },
      { kind: 'round', id: 'north', schedule: null },
    ])
  })

  it('keeps a bin on one round at most, and lets its own schedule win over the round', async () => {
    await rounds.createRound({ id: 'north', name: 'North', site: null, schedule: monThu }, 'alice')
    await rounds.createRound({ id: 'south', name: 'South', site: null, schedule: friday }, 'alice')
    // In the order given, which is the order the crew drives them; a repeat counts once, at its first place.
    expect((await rounds.setRoundBins('north', ['bin-2', 'bin-1', 'bin-1'], 'alice'))!.deviceIds).toEqual(['bin-2', 'bin-1'])
    expect((await rounds.listRounds()).find((r) => r.id === 'north')!.deviceIds).toEqual(['bin-2', 'bin-1'])
    // bin-2 moves to south and leaves north.
    expect((await rounds.setRoundBins('south', ['bin-2', 'bin-3'], 'bob', new Date(T0)))!).toMatchObject({
      deviceIds: ['bin-2', 'bin-3'],
      updatedBy: 'bob',
      updatedAt: iso(T0),
    })
    expect((await rounds.getRound('north'))!.deviceIds).toEqual(['bin-1'])
    expect(await rounds.setRoundBins('nope', ['bin-4'], 'bob')).toBeNull()
    // A bin that is not in the registry cannot be put on a round.
    await expect(rounds.setRoundBins('north', ['ghost'], 'bob')).rejects.toThrow()
    expect((await rounds.getRound('north'))!.deviceIds).toEqual(['bin-1'])

    expect(await rounds.binSchedule('bin-2')).toEqual({ schedule: friday, source: 'round', roundId: 'south' })
    await rounds.setBinSchedule('bin-2', tuesday, 'carol')
    expect(await rounds.binSchedule('bin-2')).toEqual({ schedule: tuesday, source: 'bin', roundId: 'south' })
    await rounds.setBinSchedule('bin-2', monThu, 'carol')
    expect(await rounds.ownSchedule('bin-2')).toEqual(monThu)
    await rounds.setBinSchedule('bin-4', tuesday, 'carol')
    expect(await rounds.binSchedule('bin-4')).toEqual({ schedule: tuesday, source: 'bin', roundId: null })
    expect(await rounds.binSchedule('bin-3')).toEqual({ schedule: friday, source: 'round', roundId: 'south' })

    const snap = await rounds.scheduleSnapshot()
    expect(snap.rounds).toEqual(
      new Map([
        ['north', monThu],
        ['south', friday],
      ]),
    )
    expect(snap.members).toEqual(
      new Map([
        ['bin-1', 'north'],
        ['bin-2', 'south'],
        ['bin-3', 'south'],
      ]),
    )
    expect(snap.own).toEqual(
      new Map([
        ['bin-2', monThu],
        ['bin-4', tuesday],
      ]),
    )

    expect(await rounds.removeBinSchedule('bin-2')).toBe(true)
    expect(await rounds.removeBinSchedule('bin-2')).toBe(false)
    expect(await rounds.binSchedule('bin-2')).toEqual({ schedule: friday, source: 'round', roundId: 'south' })

    // Deleting a round takes its bins off it; bin-4's own schedule is untouched.
    await rounds.deleteRound('south')
    expect(await rounds.binSchedule('bin-2')).toBeNull()
    expect((await rounds.scheduleSnapshot()).members).toEqual(new Map([['bin-1', 'north']]))
    expect(changes.filter((c) => c.kind !== 'round')).toEqual([
      { kind: 'bins', roundId: 'north', deviceIds: ['bin-2', 'bin-1'] },
      { kind: 'bins', roundId: 'south', deviceIds: ['bin-2', 'bin-3'] },
      { kind: 'bin-schedule', deviceId: 'bin-2', schedule: tuesday },
      { kind: 'bin-schedule', deviceId: 'bin-2', schedule: monThu },
      { kind: 'bin-schedule', deviceId: 'bin-4', schedule: tuesday },
      { kind: 'bin-schedule', deviceId: 'bin-2', schedule: null },
    ])
  })

  it('records detected collections, detection state and checkpoint together, and nothing twice on a replay', async () => {
    const entries = [detected('bin-1', T0, 0.8), detected('bin-2', T0 + 60_000, 0.2)]
    const states = [
      ['bin-1', '{"a":1}'],
      ['bin-2', '{"b":1}'],
      ['bin-1', '{"a":2}'],
    ] as const
    const recorded = await rounds.recordCollections(entries, states, 'collections', { segment: 2, offset: 2 ** 40 })
    expect(recorded.map((c) => ({ ...c, id: 0, recordedAt: '' }))).toEqual([
      {
        id: 0,
        deviceId: 'bin-1',
        at: iso(T0),
        levelBefore: 0.8,
        levelAfter: 0.02,
        wasted: false,
        tilted: false,
        source: 'detected',
        actor: 'system:collection-detector',
        recordedAt: '',
      },
      {
        id: 0,
        deviceId: 'bin-2',
        at: iso(T0 + 60_000),
        levelBefore: 0.2,
        levelAfter: 0.02,
        wasted: true,
        tilted: false,
        source: 'detected',
        actor: 'system:collection-detector',
        recordedAt: '',
      },
    ])
    expect(await rounds.loadDetection('collections')).toEqual({
      checkpoint: { segment: 2, offset: 2 ** 40 },
      states: new Map([
        ['bin-1', '{"a":2}'],
        ['bin-2', '{"b":1}'],
      ]),
    })
    expect(await rounds.recordCollections(entries, [], 'collections', { segment: 2, offset: 2 ** 40 + 1 })).toEqual([])
    expect(await rounds.listCollections()).toHaveLength(2)
    expect(await rounds.loadDetection('other')).toEqual({ checkpoint: null, states: expect.any(Map) })
  })

  it('rolls back collections, states and checkpoint when one row fails', async () => {
    await rounds.recordCollections([], [['bin-1', '"old"']], 'collections', { segment: 1, offset: 10 })
    const bad = rounds.recordCollections(
      [detected('bin-1', T0, 0.9)],
      [['bin-1', '"new"']],
      'collections',
      // The checkpoint is written last: when its NULL fails, the collection and state are already in and must go.
      { segment: null as unknown as number, offset: 99 },
    )
    await expect(bad).rejects.toThrow()
    expect(await rounds.listCollections()).toEqual([])
    expect(await rounds.loadDetection('collections')).toEqual({
      checkpoint: { segment: 1, offset: 10 },
      states: new Map([['bin-1', '"old"']]),
    })
  })

  it("counts a crew's mark and the sensor's drop of one emptying once", async () => {
    const manual = await rounds.addCollection(
      { deviceId: 'bin-1', at: T0, levelBefore: null, levelAfter: null, wasted: null, tilted: null, source: 'manual', actor: 'alice' },
      new Date(T0 + 5_000),
    )
    expect(manual).toMatchObject({
      deviceId: 'bin-1',
      at: iso(T0),
      wasted: null,
      tilted: null,
      levelBefore: null,
      source: 'manual',
      actor: 'alice',
      recordedAt: iso(T0 + 5_000),
    })
    // The sensor sees the drop 40 minutes later: the same emptying.
    expect(
      await rounds.recordCollections([detected('bin-1', T0 + 40 * 60_000, 0.7)], [], 'collections', { segment: 1, offset: 1 }),
    ).toEqual([])
    const again = await rounds.addCollection({ ...detected('bin-1', T0 - 59 * 60_000, 0.5), source: 'manual', actor: 'bob' })
    expect(again).toEqual({ existing: manual })
    // Two hours later it is a new collection.
    const later = await rounds.addCollection({ ...detected('bin-1', T0 + 2 * HOUR, 0.5), source: 'manual', actor: 'bob' })
    expect(later).toMatchObject({ at: iso(T0 + 2 * HOUR), levelBefore: 0.5, wasted: false, source: 'manual' })
  })

  it('lists collections by bin, round and time, newest first, and sums them per round', async () => {
    await rounds.createRound({ id: 'north', name: 'North', site: null, schedule: monThu }, 'alice')
    await rounds.createRound({ id: 'east', name: 'East', site: null, schedule: friday }, 'alice')
    await rounds.setRoundBins('north', ['bin-1', 'bin-2'], 'alice')
    await rounds.recordCollections(
      [
        detected('bin-1', T0, 0.8),
        detected('bin-2', T0 + 1_000, 0.25),
        detected('bin-1', T0 + 3 * 86_400_000, 0.1),
        detected('bin-3', T0 + 2_000, 0.05),
        detected('bin-4', T0 + 9 * 86_400_000, 0.9),
      ],
      [],
      'collections',
      { segment: 1, offset: 1 },
    )
    const at = (cs: { at: string; deviceId: string }[]) => cs.map((c) => [c.deviceId, c.at])
    // Each bin's latest, in one query; a site with none of these bins has none.
    expect(await rounds.lastCollections()).toEqual(
      new Map([
        ['bin-1', T0 + 3 * 86_400_000],
        ['bin-2', T0 + 1_000],
        ['bin-3', T0 + 2_000],
        ['bin-4', T0 + 9 * 86_400_000],
      ]),
    )
    expect(await rounds.lastCollections({ sites: ['leeds'] })).toHaveProperty('size', 4)
    expect(await rounds.lastCollections({ sites: ['york'] })).toEqual(new Map())
    // These bins' emptyings in [since, until), in one query (open data's daily history).
    const times = await rounds.collectionTimes(['bin-1', 'bin-4', 'bin-9'], T0, T0 + 9 * 86_400_000)
    expect(times.sort((a, b) => a.at - b.at)).toEqual([
      { deviceId: 'bin-1', at: T0 },
      { deviceId: 'bin-1', at: T0 + 3 * 86_400_000 },
    ])
    expect(await rounds.collectionTimes([], 0, T0 * 2)).toEqual([])
    expect(at(await rounds.listCollections({ deviceId: 'bin-1' }))).toEqual([
      ['bin-1', iso(T0 + 3 * 86_400_000)],
      ['bin-1', iso(T0)],
    ])
    expect(at(await rounds.listCollections({ roundId: 'north', since: T0 + 1, until: T0 + 3 * 86_400_000 }))).toEqual([
      ['bin-2', iso(T0 + 1_000)],
    ])
    expect(at(await rounds.listCollections({ limit: 2 }))).toEqual([
      ['bin-4', iso(T0 + 9 * 86_400_000)],
      ['bin-1', iso(T0 + 3 * 86_400_000)],
    ])
    expect(await rounds.collectionSummary(T0, T0 + 7 * 86_400_000)).toEqual([
      { roundId: 'east', name: 'East', collections: 0, wasted: 0 },
      { roundId: 'north', name: 'North', collections: 3, wasted: 2 },
      { roundId: null, name: null, collections: 1, wasted: 1 },
    ])
  })
})
