import type { Kysely, Migration } from 'kysely'
import { autoId, columnTypes, type Dialect } from '../dialect.ts'

/**
 * Collection rounds and their schedules, bins' own schedules, recorded collections, and the
 * collection recorder's per-bin detection state (saved with its checkpoint). Flags are integers
 * 0/1 on both dialects, so the store reads one shape.
 */
export function rounds(d: Dialect): Migration {
  const t = columnTypes(d)
  const id = autoId(d)
  return {
    // biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's Database type
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('rounds')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('site', 'text')
        .addColumn('schedule', t.json, (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('updated_at', t.time, (c) => c.notNull())
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .execute()

      // The primary key on the bin is what keeps a bin on at most one round.
      await db.schema
        .createTable('round_bins')
        .ifNotExists()
        .addColumn('device_id', 'text', (c) => c.primaryKey().notNull().references('devices.id'))
        .addColumn('round_id', 'text', (c) => c.notNull().references('rounds.id').onDelete('cascade'))
        .execute()
      await db.schema.createIndex('round_bins_round').ifNotExists().on('round_bins').columns(['round_id', 'device_id']).execute()

      await db.schema
        .createTable('bin_schedules')
        .ifNotExists()
        .addColumn('device_id', 'text', (c) => c.primaryKey().notNull().references('devices.id'))
        .addColumn('schedule', t.json, (c) => c.notNull())
        .addColumn('updated_at', t.time, (c) => c.notNull())
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .execute()

      // No foreign key to devices: a collection stays history whatever becomes of the bin.
      await db.schema
        .createTable('collections')
        .ifNotExists()
        .addColumn('id', id.type, id.build)
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('at', t.int64, (c) => c.notNull())
        .addColumn('level_before', t.double)
        .addColumn('level_after', t.double)
        .addColumn('wasted', 'integer')
        .addColumn('tilted', 'integer')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('recorded_at', t.time, (c) => c.notNull())
        .addUniqueConstraint('collections_device_at', ['device_id', 'at'])
        .execute()
      await db.schema.createIndex('collections_at').ifNotExists().on('collections').column('at').execute()

      await db.schema
        .createTable('collection_detection')
        .ifNotExists()
        .addColumn('device_id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .execute()
    },
  }
}
