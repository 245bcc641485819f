import type { Kysely, Migration } from 'kysely'
import { columnTypes, type Dialect } from '../dialect.ts'

/**
 * Notifications to people (issue 14): the phones (Web Push subscriptions) each person subscribed,
 * and what each person wants sent and when not.
 */
export function notifications(d: Dialect): Migration {
  const t = columnTypes(d)
  return {
    // biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's Database type
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('push_subscriptions')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('person_id', 'text', (c) => c.notNull())
        // One browser profile has one endpoint: subscribing again (or as someone else on a shared phone) takes it over.
        .addColumn('endpoint', 'text', (c) => c.notNull().unique())
        .addColumn('p256dh', 'text', (c) => c.notNull())
        .addColumn('auth', 'text', (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('last_sent_at', t.time)
        .execute()
      await db.schema.createIndex('push_subscriptions_person').ifNotExists().on('push_subscriptions').column('person_id').execute()
      await db.schema
        .createTable('notification_prefs')
        .ifNotExists()
        .addColumn('person_id', 'text', (c) => c.primaryKey())
        // NotificationPrefs as JSON text on both dialects: read whole, never queried inside.
        .addColumn('prefs', 'text', (c) => c.notNull())
        .addColumn('updated_at', t.time, (c) => c.notNull())
        .execute()
    },
  }
}
