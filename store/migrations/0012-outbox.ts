import type { Kysely, Migration } from 'kysely'
import { autoId, columnTypes, type Dialect } from '../dialect.ts'

/**
 * The durable outbox (issue 14, design D13): webhook subscriptions, one delivery row per event
 * and target (unique, so a replayed event never makes a second delivery), and the outbox's own
 * cursors over the append-only histories it follows.
 */
export function outbox(d: Dialect): Migration {
  const t = columnTypes(d)
  const id = autoId(d)
  return {
    // biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's Database type
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('webhook_subscriptions')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('event_types', t.json, (c) => c.notNull())
        .addColumn('rule_ids', t.json, (c) => c.notNull())
        .addColumn('areas', t.json, (c) => c.notNull())
        // AES-256-GCM under a key derived from the server key (store/webhook-secrets.ts): the service must sign, so no hash.
        .addColumn('secret', t.bytes, (c) => c.notNull())
        .addColumn('previous_secret', t.bytes)
        .addColumn('previous_until', t.time)
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('rotated_at', t.time)
        .execute()

      await db.schema
        .createTable('outbox_deliveries')
        .ifNotExists()
        .addColumn('id', id.type, id.build)
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('first_attempt_at', t.time)
        .addColumn('last_attempt_at', t.time)
        // Epoch ms: compared with now on every pass of the sender.
        .addColumn('next_attempt_ms', t.int64)
        .addColumn('last_error', 'text')
        .addColumn('delivered_at', t.time)
        .addUniqueConstraint('outbox_deliveries_once', ['channel', 'target', 'event_id'])
        .execute()
      // The sender's question: each target's oldest pending delivery.
      await db.schema
        .createIndex('outbox_deliveries_head')
        .ifNotExists()
        .on('outbox_deliveries')
        .columns(['channel', 'state', 'target', 'id'])
        .execute()
      await db.schema.createIndex('outbox_deliveries_target').ifNotExists().on('outbox_deliveries').columns(['target', 'id']).execute()

      await db.schema
        .createTable('outbox_cursors')
        .ifNotExists()
        .addColumn('source', 'text', (c) => c.primaryKey().notNull())
        .addColumn('last_id', t.int64, (c) => c.notNull())
        .addColumn('updated_at', t.time, (c) => c.notNull())
        .execute()
    },
  }
}
