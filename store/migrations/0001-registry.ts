import { type Kysely, type Migration, sql } from 'kysely'
import { autoId, columnTypes, type Dialect } from '../dialect.ts'

/**
 * The registry as registry/db.ts created it (its user_version 1). Every statement is
 * IF NOT EXISTS so that an existing DATA_DIR/registry.sqlite is adopted in place, and
 * so that a run interrupted half way (SQLite migrations run outside a transaction) can resume.
 */
export function registry(d: Dialect): Migration {
  const t = columnTypes(d)
  const id = autoId(d)
  return {
    // biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's Database type
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('devices')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('site', 'text', (c) => c.notNull())
        .addColumn('latitude', t.double)
        .addColumn('longitude', t.double)
        .addColumn('uprn', 'text')
        .addColumn('interval_s', 'integer', (c) => c.notNull())
        .addColumn('secret_hmac', t.bytes, (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('revoked_at', t.time)
        .addColumn('presence', 'text', (c) => c.notNull().defaultTo('unknown'))
        .addColumn('last_seen', t.time)
        .execute()

      await db.schema
        .createTable('alerts')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('device_type', 'text', (c) => c.notNull())
        .addColumn('site', 'text', (c) => c.notNull())
        .addColumn('rule_id', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('value', t.double, (c) => c.notNull())
        .addColumn('raised_ts', t.int64, (c) => c.notNull())
        .addColumn('acknowledged_at', t.time)
        .addColumn('acknowledged_by', 'text')
        .addColumn('cleared_at', t.time)
        .addUniqueConstraint('alerts_device_rule_ts', ['device_id', 'rule_id', 'raised_ts'])
        .execute()
      await db.schema
        .createIndex('alerts_open')
        .ifNotExists()
        .on('alerts')
        .column('status')
        .where(sql.ref('status'), '<>', 'cleared')
        .execute()

      await db.schema
        .createTable('quarantine')
        .ifNotExists()
        .addColumn('id', id.type, id.build)
        .addColumn('received_at', t.time, (c) => c.notNull())
        .addColumn('device_id', 'text')
        .addColumn('topic', 'text', (c) => c.notNull())
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('issues', t.json, (c) => c.notNull())
        .addColumn('payload', t.bytes, (c) => c.notNull())
        .execute()
      await db.schema.createIndex('quarantine_device').ifNotExists().on('quarantine').columns(['device_id', 'id']).execute()

      await db.schema
        .createTable('secrets')
        .ifNotExists()
        .addColumn('name', 'text', (c) => c.primaryKey().notNull())
        .addColumn('value', t.bytes, (c) => c.notNull())
        .execute()
    },
  }
}
