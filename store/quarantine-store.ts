import { type Kysely, type Selectable, sql } from 'kysely'
import type { Device, QuarantineEntry, QuarantineFilter, QuarantineSummary } from '#devices'
import type { Database, QuarantineTable } from './schema.ts'

/** What a log reader hands the store: the raw payload as bytes and the arrival as a Date. */
export type NewQuarantine = Omit<QuarantineEntry, 'id' | 'payload' | 'receivedAt' | 'deviceType'> & {
  payload: Uint8Array
  receivedAt: Date
}

export interface QuarantineStore {
  add(e: NewQuarantine): Promise<void>
  list(filter?: QuarantineFilter): Promise<QuarantineEntry[]>
  summary(): Promise<QuarantineSummary[]>
  update(id: number, e: Pick<QuarantineEntry, 'code' | 'reason' | 'issues'>): Promise<void>
  remove(id: number): Promise<void>
  count(): Promise<number>
  /** Drops entries beyond the count cap and older than the age cap; returns how many went. */
  prune(now?: Date): Promise<number>
}

type Row = Selectable<QuarantineTable> & { device_type: string | null }

const toEntry = (r: Row): QuarantineEntry => ({
  id: r.id,
  receivedAt: r.received_at,
  deviceId: r.device_id,
  deviceType: r.device_type,
  topic: r.topic,
  code: r.code,
  reason: r.reason,
  // jsonb arrives parsed, SQLite text does not.
  issues: (typeof r.issues === 'string' ? JSON.parse(r.issues) : r.issues) as QuarantineEntry['issues'],
  payload: r.payload.toString('base64'),
})

const toIso = (s: string) => new Date(s).toISOString()

/** Quarantine keeps at most `maxEntries` rows and none older than `maxAgeMs`, so a noisy device cannot fill the disk. */
export function createQuarantineStore(db: Kysely<Database>, maxEntries = 100_000, maxAgeMs = 30 * 86_400_000): QuarantineStore {
  let sinceTrim = 0
  const store: QuarantineStore = {
    async add(e) {
      await db
        .insertInto('quarantine')
        .values({
          received_at: e.receivedAt.toISOString(),
          device_id: e.deviceId,
          topic: e.topic,
          code: e.code,
          reason: e.reason,
          issues: JSON.stringify(e.issues),
          payload: Buffer.from(e.payload),
        })
        .execute()
      // Pruning on every add would double the write cost of a flood; every 1000th keeps the bound loose but cheap.
      if (++sinceTrim >= 1000) {
        sinceTrim = 0
        await store.prune()
      }
    },
    async list(f = {}) {
      let q = db
        .selectFrom('quarantine as q')
        .leftJoin('devices as d', 'd.id', 'q.device_id')
        .selectAll('q')
        .select('d.type as device_type')
      if (f.deviceId) q = q.where('q.device_id', '=', f.deviceId)
      if (f.type) q = q.where('d.type', '=', f.type as Device['type'])
      if (f.code) q = q.where('q.code', '=', f.code)
      if (f.from) q = q.where('q.received_at', '>=', toIso(f.from))
      if (f.to) q = q.where('q.received_at', '<=', toIso(f.to))
      const rows = await q
        .orderBy('q.id', 'desc')
        .limit(f.limit ?? 100)
        .execute()
      return rows.map(toEntry)
    },
    async summary() {
      const rows = await db
        .selectFrom('quarantine')
        .select((eb) => ['device_id', 'code', eb.fn.countAll().as('count'), eb.fn.max('received_at').as('lastAt')])
        .groupBy(['device_id', 'code'])
        .orderBy('count', 'desc')
        .limit(1000)
        .execute()
      return rows.map((r) => ({ deviceId: r.device_id, code: r.code, count: Number(r.count), lastAt: r.lastAt }))
    },
    async update(id, e) {
      await db
        .updateTable('quarantine')
        .set({ code: e.code, reason: e.reason, issues: JSON.stringify(e.issues) })
        .where('id', '=', id)
        .execute()
    },
    async remove(id) {
      await db.deleteFrom('quarantine').where('id', '=', id).execute()
    },
    async count() {
      const r = await db
        .selectFrom('quarantine')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
      return Number(r.n)
    },
    async prune(now = new Date()) {
      // Ids only grow (AUTOINCREMENT / identity), so everything at or below max(id) - cap is the overflow.
      const byCount = await db
        .deleteFrom('quarantine')
        .where(sql<boolean>`id <= (SELECT max(id) FROM quarantine) - ${maxEntries}`)
        .executeTakeFirst()
      const byAge = await db
        .deleteFrom('quarantine')
        .where('received_at', '<', new Date(now.getTime() - maxAgeMs).toISOString())
        .executeTakeFirst()
      return Number(byCount.numDeletedRows + byAge.numDeletedRows)
    },
  }
  return store
}
