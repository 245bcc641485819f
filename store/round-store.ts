import { randomUUID } from 'node:crypto'
import type { Generated, Kysely, Selectable } from 'kysely'
import {
  type Collection,
  CollectionSchedule,
  type CollectionSource,
  type Round,
  type RoundCollectionSummary,
  type ScheduleSource,
} from '../devices/collections/index.ts'
import { type Checkpoint, readCheckpoint, writeCheckpoint } from './checkpoint-store.ts'
import { checkFence } from './reader-fences.ts'
import type { Database, Iso, Json } from './schema.ts'

export interface RoundsTable {
  id: string
  name: string
  site: string | null
  schedule: Json
  created_at: Iso
  created_by: string
  updated_at: Iso
  updated_by: string
}

export interface RoundBinsTable {
  /** Primary key: a bin is on at most one round. */
  device_id: string
  round_id: string
  /** Its place along the round, from 0: the order the round's bins were given in. */
  stop: Generated<number>
}

export interface BinSchedulesTable {
  device_id: string
  schedule: Json
  updated_at: Iso
  updated_by: string
}

export interface CollectionsTable {
  id: Generated<number>
  device_id: string
  /** Epoch ms; with the device, the key that makes a replay record nothing twice. */
  at: number
  level_before: number | null
  level_after: number | null
  /** 0/1, null when unknown (a crew's mark without a level). */
  wasted: number | null
  tilted: number | null
  source: CollectionSource
  actor: string
  recorded_at: Iso
}

export interface CollectionDetectionTable {
  device_id: string
  /** The recorder's DetectionState as JSON text, committed with its checkpoint. */
  state: string
}

/** Tables this store owns; schema.ts's Database extends it. */
export type RoundTables = {
  rounds: RoundsTable
  round_bins: RoundBinsTable
  bin_schedules: BinSchedulesTable
  collections: CollectionsTable
  collection_detection: CollectionDetectionTable
}

/** A round's own fields, as validated by RoundInput. */
export interface RoundFields {
  name: string
  site: string | null
  schedule: CollectionSchedule
}

export interface NewCollection {
  deviceId: string
  at: number
  levelBefore: number | null
  levelAfter: number | null
  wasted: boolean | null
  tilted: boolean | null
  source: CollectionSource
  actor: string
}

/**
 * What a caller whose waste grants cover these sites may see: rounds at one of them (a round
 * with no site is not), and bins at one of them. Absent: everything. Empty: nothing.
 */
export interface SiteFilter {
  sites?: readonly string[] | undefined
}

export interface CollectionFilter extends SiteFilter {
  deviceId?: string | undefined
  /** Bins on this round now. */
  roundId?: string | undefined
  /** Epoch ms, inclusive. */
  since?: number | undefined
  /** Epoch ms, exclusive. */
  until?: number | undefined
  limit?: number | undefined
}

/** One committed change, with what a holder of schedules needs to apply it without a query. */
export type RoundChange =
  /** A round made or edited (its schedule), or deleted (null: its bins are on no round now). */
  | { kind: 'round'; id: string; schedule: CollectionSchedule | null }
  /** The round's whole bin list now; each was taken out of any other round. */
  | { kind: 'bins'; roundId: string; deviceIds: readonly string[] }
  /** A bin's own schedule set, or removed (null). */
  | { kind: 'bin-schedule'; deviceId: string; schedule: CollectionSchedule | null }
  /** A crew marked a bin collected (epoch ms): the alert engine's missed-collection check hears of it. */
  | { kind: 'collection'; deviceId: string; at: number; collection: Collection }
  /** The readings showed a bin emptied (the collection recorder): for live views only. */
  | { kind: 'detected'; collection: Collection }

export interface ScheduleSnapshot {
  /** Round id → its schedule. */
  rounds: Map<string, CollectionSchedule>
  /** Bin → its round. */
  members: Map<string, string>
  /** Bin → its own schedule. */
  own: Map<string, CollectionSchedule>
}

export interface EffectiveSchedule {
  schedule: CollectionSchedule
  source: ScheduleSource
  /** The bin's round, whether or not its own schedule overrides the round's. */
  roundId: string | null
}

/**
 * Two marks of one emptying (a crew's tap and the sensor's drop, up to a reading interval or
 * two apart) must count once: a collection this close to one already recorded for the bin is not
 * recorded again. An hour is ours; no bin is emptied twice within it.
 */
export const COLLECTION_DEDUPE_MS = 3_600_000

export interface RoundStore {
  /** null when the id is taken. */
  createRound(fields: RoundFields & { id?: string | undefined }, actor: string, at?: Date): Promise<Round | null>
  /** With `sites`, null for a round outside them, and only the round's bins at those sites. */
  getRound(id: string, filter?: SiteFilter): Promise<Round | null>
  /** With `sites`, the rounds at those sites, each with only its bins there. */
  listRounds(filter?: SiteFilter): Promise<Round[]>
  updateRound(id: string, fields: RoundFields, actor: string, at?: Date): Promise<Round | null>
  /** Its bins leave the round (their own schedules stay); recorded collections stay. */
  deleteRound(id: string): Promise<boolean>
  /** Makes these the round's bins, taking each out of any other round it was on. null: no such round. */
  setRoundBins(id: string, deviceIds: readonly string[], actor: string, at?: Date): Promise<Round | null>
  ownSchedule(deviceId: string): Promise<CollectionSchedule | null>
  setBinSchedule(deviceId: string, schedule: CollectionSchedule, actor: string, at?: Date): Promise<void>
  removeBinSchedule(deviceId: string): Promise<boolean>
  /** The bin's own schedule, else its round's; null when it has neither. */
  binSchedule(deviceId: string): Promise<EffectiveSchedule | null>
  /** Every schedule and membership: what the schedule book loads. */
  scheduleSnapshot(): Promise<ScheduleSnapshot>
  /** A crew's mark; `{ existing }` when this emptying is already recorded (within COLLECTION_DEDUPE_MS). */
  addCollection(c: NewCollection, recordedAt?: Date): Promise<Collection | { existing: Collection }>
  /** Newest first. */
  listCollections(filter?: CollectionFilter): Promise<Collection[]>
  /** Each bin's latest collection (epoch ms), in one query; with `sites`, bins at those sites only. */
  lastCollections(filter?: SiteFilter & { since?: number }): Promise<Map<string, number>>
  /** When each of these bins was emptied in [since, until) (epoch ms), in one query: open data's daily emptyings. */
  collectionTimes(deviceIds: readonly string[], since: number, until: number): Promise<{ deviceId: string; at: number }[]>
  /**
   * Per round (as rounds are now), collections and wasted trips in [since, until); bins on no round
   * under roundId null. With `sites`, the rounds at those sites, counting only bins there.
   */
  collectionSummary(since: number, until: number, filter?: SiteFilter): Promise<RoundCollectionSummary[]>
  /** What the collection recorder resumes from: its checkpoint (null before the first commit) and each bin's detection state as JSON text. */
  loadDetection(reader: string): Promise<{ checkpoint: Checkpoint | null; states: Map<string, string> }>
  /**
   * Detected collections, the detection states they changed and the reader's checkpoint, in one
   * transaction: a crash replays from the old checkpoint against the old states and records
   * nothing twice. Returns the collections newly recorded.
   */
  recordCollections(
    entries: readonly NewCollection[],
    states: ReadonlyArray<readonly [string, string]>,
    reader: string,
    checkpoint: Checkpoint,
    /** Cluster mode: the epoch this node reads the partition with (store/reader-fences.ts). */
    fence?: number,
  ): Promise<Collection[]>
  /**
   * Called synchronously after every committed change to rounds, their bins or bins' schedules
   * made through this store (in this process), before the write returns: the schedule book
   * applies it there, so a reading after the API's answer meets the new schedule. Returns the
   * unsubscribe.
   */
  onChange(listener: (change: RoundChange) => void): () => void
}

const parseSchedule = (v: unknown): CollectionSchedule =>
  // jsonb arrives parsed, SQLite text does not.
  CollectionSchedule.parse(typeof v === 'string' ? JSON.parse(v) : v)

const flag = (v: number | null) => (v === null ? null : v === 1)
const bit = (v: boolean | null) => (v === null ? null : v ? 1 : 0)

const toCollection = (r: Selectable<CollectionsTable>): Collection => ({
  id: Number(r.id),
  deviceId: r.device_id,
  at: new Date(Number(r.at)).toISOString(),
  levelBefore: r.level_before,
  levelAfter: r.level_after,
  wasted: flag(r.wasted),
  tilted: flag(r.tilted),
  source: r.source,
  actor: r.actor,
  recordedAt: r.recorded_at,
})

/** Rows per multi-row insert: well inside both dialects' bound-parameter limits. */
const CHUNK = 500

export function createRoundStore(db: Kysely<Database>): RoundStore {
  const listeners = new Set<(c: RoundChange) => void>()
  const changed = (c: RoundChange) => {
    for (const l of listeners) {
      try {
        l(c)
      } catch {
        // A listener's failure is its own: the write it follows has committed.
      }
    }
  }

  /** The ids of bins at these sites, as a subquery. */
  const binsAt = (q: Kysely<Database>, sites: readonly string[]) =>
    q.selectFrom('devices').select('id').where('type', '=', 'bin').where('site', 'in', sites)

  const roundsWithBins = async (q: Kysely<Database>, ids?: readonly string[], sites?: readonly string[]): Promise<Round[]> => {
    let rq = q.selectFrom('rounds').selectAll().orderBy('name').orderBy('id')
    let bq = q.selectFrom('round_bins').select(['round_id', 'device_id']).orderBy('stop').orderBy('device_id')
    if (ids) {
      if (ids.length === 0) return []
      rq = rq.where('id', 'in', ids)
      bq = bq.where('round_id', 'in', ids)
    }
    if (sites) {
      if (sites.length === 0) return []
      rq = rq.where('site', 'in', sites)
      bq = bq.where('device_id', 'in', binsAt(q, sites))
    }
    const [rows, bins] = await Promise.all([rq.execute(), bq.execute()])
    const members = new Map<string, string[]>()
    for (const b of bins) {
      const list = members.get(b.round_id)
      if (list) list.push(b.device_id)
      else members.set(b.round_id, [b.device_id])
    }
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      site: r.site,
      schedule: parseSchedule(r.schedule),
      deviceIds: members.get(r.id) ?? [],
      createdAt: r.created_at,
      createdBy: r.created_by,
      updatedAt: r.updated_at,
      updatedBy: r.updated_by,
    }))
  }
  const oneRound = async (q: Kysely<Database>, id: string, sites?: readonly string[]) => (await roundsWithBins(q, [id], sites))[0] ?? null

  const near = (q: Kysely<Database>, deviceId: string, at: number) =>
    q
      .selectFrom('collections')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where('at', '>', at - COLLECTION_DEDUPE_MS)
      .where('at', '<', at + COLLECTION_DEDUPE_MS)
      .orderBy('at')
      .executeTakeFirst()

  const insertCollection = (q: Kysely<Database>, c: NewCollection, recordedAt: Date) =>
    q
      .insertInto('collections')
      .values({
        device_id: c.deviceId,
        at: c.at,
        level_before: c.levelBefore,
        level_after: c.levelAfter,
        wasted: bit(c.wasted),
        tilted: bit(c.tilted),
        source: c.source,
        actor: c.actor,
        recorded_at: recordedAt.toISOString(),
      })
      .onConflict((oc) => oc.columns(['device_id', 'at']).doNothing())
      .returningAll()
      .executeTakeFirst()

  return {
    async createRound(f, actor, at = new Date()) {
      const now = at.toISOString()
      const row = await db
        .insertInto('rounds')
        .values({
          id: f.id ?? randomUUID(),
          name: f.name,
          site: f.site,
          schedule: JSON.stringify(f.schedule),
          created_at: now,
          created_by: actor,
          updated_at: now,
          updated_by: actor,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .executeTakeFirst()
      if (!row) return null
      changed({ kind: 'round', id: row.id, schedule: f.schedule })
      return oneRound(db, row.id)
    },
    getRound: (id, f = {}) => oneRound(db, id, f.sites),
    listRounds: (f = {}) => roundsWithBins(db, undefined, f.sites),
    async updateRound(id, f, actor, at = new Date()) {
      const r = await db
        .updateTable('rounds')
        .set({ name: f.name, site: f.site, schedule: JSON.stringify(f.schedule), updated_at: at.toISOString(), updated_by: actor })
        .where('id', '=', id)
        .executeTakeFirst()
      if (r.numUpdatedRows === 0n) return null
      changed({ kind: 'round', id, schedule: f.schedule })
      return oneRound(db, id)
    },
    async deleteRound(id) {
      const r = await db.transaction().execute(async (trx) => {
        // Spelled out rather than left to ON DELETE CASCADE, which SQLite honours only with foreign_keys on.
        await trx.deleteFrom('round_bins').where('round_id', '=', id).execute()
        return trx.deleteFrom('rounds').where('id', '=', id).executeTakeFirst()
      })
      if (r.numDeletedRows === 0n) return false
      changed({ kind: 'round', id, schedule: null })
      return true
    },
    async setRoundBins(id, deviceIds, actor, at = new Date()) {
      const ids = [...new Set(deviceIds)]
      const round = await db.transaction().execute(async (trx) => {
        const r = await trx
          .updateTable('rounds')
          .set({ updated_at: at.toISOString(), updated_by: actor })
          .where('id', '=', id)
          .executeTakeFirst()
        if (r.numUpdatedRows === 0n) return null
        await trx.deleteFrom('round_bins').where('round_id', '=', id).execute()
        for (let i = 0; i < ids.length; i += CHUNK) {
          const part = ids.slice(i, i + CHUNK)
          await trx.deleteFrom('round_bins').where('device_id', 'in', part).execute()
          await trx
            .insertInto('round_bins')
            .values(part.map((device_id, j) => ({ device_id, round_id: id, stop: i + j })))
            .execute()
        }
        return oneRound(trx, id)
      })
      if (round) changed({ kind: 'bins', roundId: id, deviceIds: round.deviceIds })
      return round
    },
    async ownSchedule(deviceId) {
      const row = await db.selectFrom('bin_schedules').select('schedule').where('device_id', '=', deviceId).executeTakeFirst()
      return row ? parseSchedule(row.schedule) : null
    },
    async setBinSchedule(deviceId, schedule, actor, at = new Date()) {
      const row = { device_id: deviceId, schedule: JSON.stringify(schedule), updated_at: at.toISOString(), updated_by: actor }
      await db
        .insertInto('bin_schedules')
        .values(row)
        .onConflict((oc) => oc.column('device_id').doUpdateSet({ schedule: row.schedule, updated_at: row.updated_at, updated_by: actor }))
        .execute()
      changed({ kind: 'bin-schedule', deviceId, schedule })
    },
    async removeBinSchedule(deviceId) {
      const r = await db.deleteFrom('bin_schedules').where('device_id', '=', deviceId).executeTakeFirst()
      if (r.numDeletedRows === 0n) return false
      changed({ kind: 'bin-schedule', deviceId, schedule: null })
      return true
    },
    async binSchedule(deviceId) {
      const [own, member] = await Promise.all([
        db.selectFrom('bin_schedules').select('schedule').where('device_id', '=', deviceId).executeTakeFirst(),
        db
          .selectFrom('round_bins as b')
          .innerJoin('rounds as r', 'r.id', 'b.round_id')
          .select(['r.id', 'r.schedule'])
          .where('b.device_id', '=', deviceId)
          .executeTakeFirst(),
      ])
      const roundId = member?.id ?? null
      if (own) return { schedule: parseSchedule(own.schedule), source: 'bin', roundId }
      if (member) return { schedule: parseSchedule(member.schedule), source: 'round', roundId }
      return null
    },
    async scheduleSnapshot() {
      const [rounds, members, own] = await Promise.all([
        db.selectFrom('rounds').select(['id', 'schedule']).execute(),
        db.selectFrom('round_bins').select(['device_id', 'round_id']).execute(),
        db.selectFrom('bin_schedules').select(['device_id', 'schedule']).execute(),
      ])
      return {
        rounds: new Map(rounds.map((r) => [r.id, parseSchedule(r.schedule)])),
        members: new Map(members.map((m) => [m.device_id, m.round_id])),
        own: new Map(own.map((o) => [o.device_id, parseSchedule(o.schedule)])),
      }
    },
    async addCollection(c, recordedAt = new Date()) {
      const out = await db.transaction().execute(async (trx) => {
        const existing = await near(trx, c.deviceId, c.at)
        if (existing) return { existing: toCollection(existing) }
        const row = await insertCollection(trx, c, recordedAt)
        // Only a concurrent mark at the very same millisecond gets here without a row.
        if (!row) return { existing: toCollection((await near(trx, c.deviceId, c.at))!) }
        return toCollection(row)
      })
      if (!('existing' in out)) changed({ kind: 'collection', deviceId: c.deviceId, at: c.at, collection: out })
      return out
    },
    async listCollections(f = {}) {
      let q = db.selectFrom('collections').selectAll()
      if (f.sites) {
        if (f.sites.length === 0) return []
        q = q.where('device_id', 'in', binsAt(db, f.sites))
      }
      if (f.deviceId) q = q.where('device_id', '=', f.deviceId)
      if (f.roundId) {
        const roundId = f.roundId
        q = q.where('device_id', 'in', (eb) => eb.selectFrom('round_bins').select('device_id').where('round_id', '=', roundId))
      }
      if (f.since !== undefined) q = q.where('at', '>=', f.since)
      if (f.until !== undefined) q = q.where('at', '<', f.until)
      const rows = await q
        .orderBy('at', 'desc')
        .orderBy('id', 'desc')
        .limit(Math.min(f.limit ?? 100, 1000))
        .execute()
      return rows.map(toCollection)
    },
    async lastCollections(f = {}) {
      let q = db
        .selectFrom('collections')
        .select((eb) => ['device_id', eb.fn.max('at').as('at')])
        .groupBy('device_id')
      if (f.since !== undefined) q = q.where('at', '>=', f.since)
      if (f.sites) {
        if (f.sites.length === 0) return new Map()
        q = q.where('device_id', 'in', binsAt(db, f.sites))
      }
      const rows = await q.execute()
      return new Map(rows.map((r) => [r.device_id, Number(r.at)]))
    },
    async collectionTimes(deviceIds, since, until) {
      if (deviceIds.length === 0) return []
      const rows = await db
        .selectFrom('collections')
        .select(['device_id', 'at'])
        .where('device_id', 'in', [...deviceIds])
        .where('at', '>=', since)
        .where('at', '<', until)
        .execute()
      return rows.map((r) => ({ deviceId: r.device_id, at: Number(r.at) }))
    },
    async collectionSummary(since, until, f = {}) {
      const { sites } = f
      if (sites?.length === 0) return []
      let rq = db.selectFrom('rounds').select(['id', 'name']).orderBy('name').orderBy('id')
      let cq = db.selectFrom('collections as c')
      if (sites) {
        rq = rq.where('site', 'in', sites)
        cq = cq.where('c.device_id', 'in', binsAt(db, sites))
      }
      const [rounds, counts] = await Promise.all([
        rq.execute(),
        cq
          .leftJoin('round_bins as b', 'b.device_id', 'c.device_id')
          .select((eb) => [
            'b.round_id',
            eb.fn.countAll().as('collections'),
            eb.fn.sum<number | string | null>(eb.case().when('c.wasted', '=', 1).then(1).else(0).end()).as('wasted'),
          ])
          .where('c.at', '>=', since)
          .where('c.at', '<', until)
          .groupBy('b.round_id')
          .execute(),
      ])
      const byRound = new Map(counts.map((c) => [c.round_id, { collections: Number(c.collections), wasted: Number(c.wasted ?? 0) }]))
      const out: RoundCollectionSummary[] = rounds.map((r) => ({
        roundId: r.id,
        name: r.name,
        ...(byRound.get(r.id) ?? { collections: 0, wasted: 0 }),
      }))
      const loose = byRound.get(null)
      if (loose) out.push({ roundId: null, name: null, ...loose })
      return out
    },
    async loadDetection(reader) {
      const [checkpoint, rows] = await Promise.all([
        readCheckpoint(db, reader),
        db.selectFrom('collection_detection').select(['device_id', 'state']).execute(),
      ])
      return { checkpoint, states: new Map(rows.map((r) => [r.device_id, r.state])) }
    },
    async recordCollections(entries, states, reader, checkpoint, fence) {
      const recordedAt = new Date()
      const recorded = await db.transaction().execute(async (trx) => {
        await checkFence(trx, reader, fence)
        const out: Collection[] = []
        for (const c of entries) {
          if (await near(trx, c.deviceId, c.at)) continue
          const row = await insertCollection(trx, c, recordedAt)
          if (row) out.push(toCollection(row))
        }
        // PostgreSQL refuses to upsert one key twice in a statement; keep each bin's last state.
        const rows = [...new Map(states.map(([k, v]) => [k, v] as const))].map(([device_id, state]) => ({ device_id, state }))
        for (let i = 0; i < rows.length; i += CHUNK) {
          await trx
            .insertInto('collection_detection')
            .values(rows.slice(i, i + CHUNK))
            .onConflict((oc) => oc.column('device_id').doUpdateSet((eb) => ({ state: eb.ref('excluded.state') })))
            .execute()
        }
        await writeCheckpoint(trx, reader, checkpoint)
        return out
      })
      for (const collection of recorded) changed({ kind: 'detected', collection })
      return recorded
    },
    onChange(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}
