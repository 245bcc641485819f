import { randomUUID } from 'node:crypto'
import type { Kysely } from 'kysely'
import { DEFAULT_PREFS, NotificationPrefs, type PushSubscriptionInput, type PushSubscriptionView } from '#devices'
import type { Database, Iso } from './schema.ts'

export interface PushSubscriptionsTable {
  id: string
  person_id: string
  endpoint: string
  p256dh: string
  auth: string
  created_at: Iso
  last_sent_at: Iso | null
}

export interface NotificationPrefsTable {
  person_id: string
  prefs: string
  updated_at: Iso
}

/** Tables this store owns; schema.ts's Database extends it. */
export type PushTables = { push_subscriptions: PushSubscriptionsTable; notification_prefs: NotificationPrefsTable }

/** What the push channel needs to encrypt to and reach one phone. */
export interface PushTarget {
  id: string
  personId: string
  endpoint: string
  keys: { p256dh: string; auth: string }
}

export interface PushStore {
  /** Stores a phone's subscription for a person; the same endpoint again replaces the old one. */
  subscribe(personId: string, s: PushSubscriptionInput, at?: Date): Promise<PushSubscriptionView>
  unsubscribe(personId: string, endpoint: string): Promise<boolean>
  listFor(personId: string): Promise<PushSubscriptionView[]>
  /** Every subscription and whose it is, for routing. */
  owners(): Promise<{ id: string; personId: string }[]>
  target(id: string): Promise<PushTarget | undefined>
  /** The push service said the subscription is gone (404/410). */
  remove(id: string): Promise<void>
  sent(id: string, at?: Date): Promise<void>
  prefs(personId: string): Promise<NotificationPrefs>
  setPrefs(personId: string, p: NotificationPrefs, at?: Date): Promise<void>
}

const view = (r: Pick<PushSubscriptionsTable, 'id' | 'endpoint' | 'created_at' | 'last_sent_at'>): PushSubscriptionView => ({
  id: r.id,
  endpointOrigin: new URL(r.endpoint).origin,
  createdAt: r.created_at,
  lastSentAt: r.last_sent_at,
})

export function createPushStore(db: Kysely<Database>): PushStore {
  return {
    async subscribe(personId, s, at = new Date()) {
      const row = {
        id: randomUUID(),
        person_id: personId,
        endpoint: s.endpoint,
        p256dh: s.keys.p256dh,
        auth: s.keys.auth,
        created_at: at.toISOString(),
        last_sent_at: null,
      }
      await db
        .insertInto('push_subscriptions')
        .values(row)
        .onConflict((oc) =>
          oc
            .column('endpoint')
            .doUpdateSet({ id: row.id, person_id: personId, p256dh: row.p256dh, auth: row.auth, created_at: row.created_at }),
        )
        .execute()
      return view(row)
    },
    async unsubscribe(personId, endpoint) {
      const r = await db
        .deleteFrom('push_subscriptions')
        .where('person_id', '=', personId)
        .where('endpoint', '=', endpoint)
        .executeTakeFirst()
      return Number(r.numDeletedRows) > 0
    },
    async listFor(personId) {
      const rows = await db.selectFrom('push_subscriptions').selectAll().where('person_id', '=', personId).orderBy('created_at').execute()
      return rows.map(view)
    },
    async owners() {
      const rows = await db.selectFrom('push_subscriptions').select(['id', 'person_id']).orderBy('id').execute()
      return rows.map((r) => ({ id: r.id, personId: r.person_id }))
    },
    async target(id) {
      const r = await db.selectFrom('push_subscriptions').selectAll().where('id', '=', id).executeTakeFirst()
      return r && { id: r.id, personId: r.person_id, endpoint: r.endpoint, keys: { p256dh: r.p256dh, auth: r.auth } }
    },
    async remove(id) {
      await db.deleteFrom('push_subscriptions').where('id', '=', id).execute()
    },
    async sent(id, at = new Date()) {
      await db.updateTable('push_subscriptions').set({ last_sent_at: at.toISOString() }).where('id', '=', id).execute()
    },
    async prefs(personId) {
      const r = await db.selectFrom('notification_prefs').select('prefs').where('person_id', '=', personId).executeTakeFirst()
      if (!r) return DEFAULT_PREFS
      // Written by setPrefs only; parsed again so a hand-edited row cannot reach the senders malformed.
      const p = NotificationPrefs.safeParse(JSON.parse(r.prefs))
      return p.success ? p.data : DEFAULT_PREFS
    },
    async setPrefs(personId, p, at = new Date()) {
      const values = { prefs: JSON.stringify(p), updated_at: at.toISOString() }
      await db
        .insertInto('notification_prefs')
        .values({ person_id: personId, ...values })
        .onConflict((oc) => oc.column('person_id').doUpdateSet(values))
        .execute()
    },
  }
}
