import { type Generated, type Kysely, type Selectable, sql } from 'kysely'
import type { Delivery, DeliveryEventType, DeliveryFilter, DeliveryState, OutboxChannel } from '#devices'
import type { Dialect } from './dialect.ts'
import { alertHistorySource, caseEventsSource, collectionsSource, type OutboxSource } from './outbox-sources.ts'
import { FencedError } from './reader-fences.ts'
import type { Database, Iso } from './schema.ts'

export interface OutboxDeliveriesTable {
  id: Generated<number>
  event_id: string
  event_type: DeliveryEventType
  channel: OutboxChannel
  target: string
  payload: string
  state: DeliveryState
  attempts: Generated<number>
  created_at: Iso
  first_attempt_at: Iso | null
  last_attempt_at: Iso | null
  next_attempt_ms: number | null
  last_error: string | null
  delivered_at: Iso | null
}

export interface OutboxCursorsTable {
  source: string
  last_id: number
  updated_at: Iso
}

/** Tables this store owns; schema.ts's Database extends it. */
export type OutboxTables = { outbox_deliveries: OutboxDeliveriesTable; outbox_cursors: OutboxCursorsTable }

export interface NewDelivery {
  eventId: string
  eventType: DeliveryEventType
  channel: OutboxChannel
  target: string
  payload: string
}

/** A pending delivery as the sender schedules it. */
export interface PendingEntry {
  id: number
  target: string
  dueMs: number
}

/** What one attempt left: the sender decides it (outbox/backoff.ts), the store keeps it. */
export type AttemptRecord =
  | { state: 'delivered'; at: Date; note?: string }
  | { state: 'pending'; at: Date; nextAttemptMs: number; error: string }
  | { state: 'dead'; at: Date; error: string }

export interface OutboxStore {
  /** The histories the producer follows: alert history, Awaab's Law case events, bin collections. */
  readonly sources: readonly OutboxSource[]
  /** The last source row turned into deliveries; null before the outbox first ran. */
  cursor(source: string): Promise<number | null>
  /**
   * The deliveries of a batch of source rows and the moved cursor, in one transaction: a crash
   * before it loses nothing (the rows are read again), and a replayed event meets the unique
   * (channel, target, event) key and makes no second delivery. False, and nothing written, when
   * the cursor is no longer at `from` (another producer moved it). Returns how many were new.
   */
  commit(source: string, from: number, to: number, deliveries: readonly NewDelivery[], at?: Date): Promise<number | false>
  /**
   * Deliveries made by a schedule rather than a history (a daily digest): due at `at`. The unique
   * (channel, target, event) key makes a second enqueue of the same event a no-op. Returns how many were new.
   */
  enqueue(deliveries: readonly NewDelivery[], at?: Date): Promise<number>
  /**
   * The channel's pending deliveries after `afterId`, in id order, as the sender's index keeps them:
   * only what orders and schedules them, not their payloads (a target down for a day may have many).
   */
  pending(channel: OutboxChannel, afterId: number): Promise<PendingEntry[]>
  /** The deliveries with these ids, any state, in no particular order. */
  getMany(ids: readonly number[]): Promise<Delivery[]>
  /**
   * Each of these targets' oldest pending delivery id. The sender checks its heads against it: on
   * PostgreSQL a smaller id can commit after a larger one was read, and must still go first.
   */
  oldest(channel: OutboxChannel, targets: readonly string[]): Promise<Map<string, number>>
  /** Counts the attempt and keeps its outcome; only while the delivery is still pending. */
  record(id: number, r: AttemptRecord): Promise<void>
  /** As record, for attempts that ended together, in one transaction (one commit instead of one each). */
  recordMany(attempts: readonly { id: number; r: AttemptRecord }[]): Promise<void>
  /**
   * Cluster mode: one attempt made while `fence` is this outbox's (store/reader-fences.ts), its
   * outcome stored before the fence is let go. The fence's row is held shared for the whole attempt,
   * so a node taking the outbox over (its claim updates the row) waits until every attempt of the
   * former holder has ended and been stored, and the former holder's next attempt finds the fence
   * moved and throws FencedError without sending. `attempt` returns null when it ended without an
   * outcome to keep (stopped mid-way). Holds one connection per attempt in flight.
   */
  attemptFenced(
    fence: { reader: string; epoch: number },
    id: number,
    attempt: () => Promise<AttemptRecord | null>,
  ): Promise<AttemptRecord | null>
  list(filter?: Partial<DeliveryFilter>): Promise<Delivery[]>
  get(id: number): Promise<Delivery | null>
  /** A dead letter back to pending, due now, with a fresh retry period; 'not-dead' for any other state. */
  replay(id: number, at?: Date): Promise<Delivery | 'not-dead' | null>
  /** Ends a target's pending deliveries as dead (its subscription was deleted). */
  abandon(channel: OutboxChannel, target: string, reason: string, at?: Date): Promise<number>
}

const toDelivery = (r: Selectable<OutboxDeliveriesTable>): Delivery => ({
  id: Number(r.id),
  eventId: r.event_id,
  eventType: r.event_type,
  channel: r.channel,
  target: r.target,
  payload: r.payload,
  state: r.state,
  attempts: Number(r.attempts),
  createdAt: r.created_at,
  firstAttemptAt: r.first_attempt_at,
  lastAttemptAt: r.last_attempt_at,
  nextAttemptAt: r.state === 'pending' && r.next_attempt_ms != null ? new Date(Number(r.next_attempt_ms)).toISOString() : null,
  lastError: r.last_error,
  deliveredAt: r.delivered_at,
})

/** The longest a fenced attempt may hold the fence without a word to PostgreSQL (attemptFenced). */
export const FENCE_HOLD_S = 90

export function createOutboxStore(db: Kysely<Database>, dialect: Dialect = 'sqlite', opts: { fenceHoldS?: number } = {}): OutboxStore {
  const fenceHold = `${opts.fenceHoldS ?? FENCE_HOLD_S}s`
  const insert = async (trx: Kysely<Database>, deliveries: readonly NewDelivery[], at: Date) => {
    const now = at.toISOString()
    let added = 0
    // Chunks stay far below SQLite's limit on bound parameters.
    for (let i = 0; i < deliveries.length; i += 200) {
      const rows = deliveries.slice(i, i + 200).map((d) => ({
        ...{ event_id: d.eventId, event_type: d.eventType, channel: d.channel, target: d.target, payload: d.payload },
        ...{ state: 'pending' as const, created_at: now, next_attempt_ms: at.getTime() },
      }))
      const r = await trx
        .insertInto('outbox_deliveries')
        .values(rows)
        .onConflict((oc) => oc.columns(['channel', 'target', 'event_id']).doNothing())
        .executeTakeFirst()
      added += Number(r.numInsertedOrUpdatedRows ?? 0)
    }
    return added
  }
  const update = async (q: Kysely<Database>, id: number, r: AttemptRecord) => {
    const at = r.at.toISOString()
    await q
      .updateTable('outbox_deliveries')
      .set((eb) => ({
        attempts: eb('attempts', '+', 1),
        first_attempt_at: eb.fn.coalesce('first_attempt_at', eb.val(at)),
        last_attempt_at: at,
        state: r.state,
        next_attempt_ms: r.state === 'pending' ? r.nextAttemptMs : null,
        ...(r.state === 'delivered'
          ? { delivered_at: at, ...(r.note ? { last_error: r.note.slice(0, 2000) } : {}) }
          : { last_error: r.error.slice(0, 2000) }),
      }))
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .execute()
  }
  const byId = (id: number) => db.selectFrom('outbox_deliveries').selectAll().where('id', '=', id).executeTakeFirst()
  return {
    sources: [alertHistorySource(db), caseEventsSource(db), collectionsSource(db)],
    async cursor(source) {
      const r = await db.selectFrom('outbox_cursors').select('last_id').where('source', '=', source).executeTakeFirst()
      return r ? Number(r.last_id) : null
    },
    async commit(source, from, to, deliveries, at = new Date()) {
      return db.transaction().execute(async (trx) => {
        const now = at.toISOString()
        const moved =
          from === 0
            ? await trx
                .insertInto('outbox_cursors')
                .values({ source, last_id: to, updated_at: now })
                .onConflict((oc) =>
                  oc.column('source').doUpdateSet({ last_id: to, updated_at: now }).where('outbox_cursors.last_id', '=', 0),
                )
                .executeTakeFirst()
            : await trx
                .updateTable('outbox_cursors')
                .set({ last_id: to, updated_at: now })
                .where('source', '=', source)
                .where('last_id', '=', from)
                .executeTakeFirst()
        const changed = 'numInsertedOrUpdatedRows' in moved ? moved.numInsertedOrUpdatedRows : moved.numUpdatedRows
        if (Number(changed ?? 0) !== 1) return false
        return insert(trx, deliveries, at)
      })
    },
    async enqueue(deliveries, at = new Date()) {
      return db.transaction().execute((trx) => insert(trx, deliveries, at))
    },
    async pending(channel, afterId) {
      const rows = await db
        .selectFrom('outbox_deliveries')
        .select(['id', 'target', 'next_attempt_ms'])
        .where('channel', '=', channel)
        .where('state', '=', 'pending')
        .where('id', '>', afterId)
        .orderBy('id')
        .execute()
      return rows.map((r) => ({ id: Number(r.id), target: r.target, dueMs: Number(r.next_attempt_ms ?? 0) }))
    },
    async oldest(channel, targets) {
      if (targets.length === 0) return new Map()
      const rows = await db
        .selectFrom('outbox_deliveries')
        .select((eb) => ['target', eb.fn.min('id').as('id')])
        .where('channel', '=', channel)
        .where('state', '=', 'pending')
        .where('target', 'in', [...targets])
        .groupBy('target')
        .execute()
      return new Map(rows.map((r) => [r.target, Number(r.id)]))
    },
    async getMany(ids) {
      if (ids.length === 0) return []
      const rows = await db
        .selectFrom('outbox_deliveries')
        .selectAll()
        .where('id', 'in', [...ids])
        .execute()
      return rows.map(toDelivery)
    },
    async record(id, r) {
      await update(db, id, r)
    },
    async recordMany(attempts) {
      if (attempts.length === 1) return update(db, attempts[0]!.id, attempts[0]!.r)
      await db.transaction().execute(async (trx) => {
        for (const a of attempts) await update(trx, a.id, a.r)
      })
    },
    async attemptFenced(fence, id, attempt) {
      return db.transaction().execute(async (trx) => {
        let q = trx.selectFrom('reader_fences').select('epoch').where('reader', '=', fence.reader)
        // SQLite has one writer and no row locks; there the fence is only compared (one node runs it anyway).
        if (dialect === 'postgres') {
          // A holder frozen mid-send (a paused VM) or gone without closing its connection would hold the
          // fence, and so the next holder's claim, for as long as its session lives: PostgreSQL ends it
          // after this long idle in the transaction (longer than any send: WEBHOOK_TIMEOUT_MS is at most
          // 60 s). Past it the delivery is at least once: it may have gone before the freeze.
          await sql`SET LOCAL idle_in_transaction_session_timeout = ${sql.lit(fenceHold)}`.execute(trx)
          q = q.forShare()
        }
        const row = await q.executeTakeFirst()
        if (!row || Number(row.epoch) !== fence.epoch) throw new FencedError(fence.reader, fence.epoch)
        const r = await attempt()
        if (r) await update(trx, id, r)
        return r
      })
    },
    async list(f = {}) {
      let q = db.selectFrom('outbox_deliveries').selectAll()
      if (f.state) q = q.where('state', '=', f.state)
      if (f.target) q = q.where('target', '=', f.target)
      if (f.before !== undefined) q = q.where('id', '<', f.before)
      const rows = await q
        .orderBy('id', 'desc')
        .limit(Math.min(f.limit ?? 100, 1000))
        .execute()
      return rows.map(toDelivery)
    },
    async get(id) {
      const r = await byId(id)
      return r ? toDelivery(r) : null
    },
    async replay(id, at = new Date()) {
      const r = await db
        .updateTable('outbox_deliveries')
        .set({ state: 'pending', next_attempt_ms: at.getTime(), first_attempt_at: null })
        .where('id', '=', id)
        .where('state', '=', 'dead')
        .returningAll()
        .executeTakeFirst()
      if (r) return toDelivery(r)
      return (await byId(id)) ? 'not-dead' : null
    },
    async abandon(channel, target, reason, at = new Date()) {
      const r = await db
        .updateTable('outbox_deliveries')
        .set({ state: 'dead', next_attempt_ms: null, last_error: reason, last_attempt_at: at.toISOString() })
        .where('channel', '=', channel)
        .where('target', '=', target)
        .where('state', '=', 'pending')
        .executeTakeFirst()
      return Number(r.numUpdatedRows)
    },
  }
}
