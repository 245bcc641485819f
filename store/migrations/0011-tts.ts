import type { Kysely, Migration } from 'kysely'
import { columnTypes, type Dialect } from '../dialect.ts'

/**
 * The Things Stack in (issue 14): the applications whose webhook may post uplinks (only a
 * keyed hash of each secret), which of our devices each TTS end device is, and the frames
 * already taken, so a repeated uplink is not a second reading even across a restart.
 */
export function tts(d: Dialect): Migration {
  const t = columnTypes(d)
  return {
    // biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's Database type
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('tts_applications')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('secret_hash', t.bytes, (c) => c.notNull().unique())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('last_used_at', t.time)
        .execute()
      await db.schema
        .createTable('tts_mappings')
        .ifNotExists()
        // eui:<DEV_EUI> or dev:<application>/<device>
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('decoder', 'text', (c) => c.notNull())
        // JSON text on both dialects: the store never looks inside.
        .addColumn('params', 'text', (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .execute()
      await db.schema.createIndex('tts_mappings_device').ifNotExists().on('tts_mappings').column('device_id').execute()
      await db.schema
        .createTable('tts_frames')
        .ifNotExists()
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('f_cnt', t.int64, (c) => c.notNull())
        // Application Server received_at, epoch ms.
        .addColumn('received_at', t.int64, (c) => c.notNull())
        .addColumn('session', 'text')
        .addPrimaryKeyConstraint('tts_frames_pk', ['device_id', 'f_cnt', 'received_at'])
        .execute()
      await db.schema.createIndex('tts_frames_received').ifNotExists().on('tts_frames').column('received_at').execute()
    },
  }
}
