import type { Kysely } from 'kysely'
import type { Database } from './schema.ts'

/** A reader's position in the spool: the next byte to read is `offset` in segment `segment`. */
export interface Checkpoint {
  segment: number
  offset: number
}

export interface CheckpointStore {
  get(reader: string): Promise<Checkpoint | null>
  set(reader: string, checkpoint: Checkpoint): Promise<void>
}

// Both take a Kysely or a Transaction (a Transaction is a Kysely), so the alert store can move the checkpoint inside its batch.

export async function readCheckpoint(db: Kysely<Database>, reader: string): Promise<Checkpoint | null> {
  const row = await db.selectFrom('reader_checkpoints').select(['segment', 'offset']).where('reader', '=', reader).executeTakeFirst()
  return row ? { segment: Number(row.segment), offset: Number(row.offset) } : null
}

export async function writeCheckpoint(db: Kysely<Database>, reader: string, cp: Checkpoint, at = new Date()): Promise<void> {
  const row = { reader, segment: cp.segment, offset: cp.offset, updated_at: at.toISOString() }
  await db
    .insertInto('reader_checkpoints')
    .values(row)
    .onConflict((oc) =>
      oc.column('reader').doUpdateSet((eb) => ({
        segment: eb.ref('excluded.segment'),
        offset: eb.ref('excluded.offset'),
        updated_at: eb.ref('excluded.updated_at'),
      })),
    )
    .execute()
}

export function createCheckpointStore(db: Kysely<Database>): CheckpointStore {
  return {
    get: (reader) => readCheckpoint(db, reader),
    set: (reader, cp) => writeCheckpoint(db, reader, cp),
  }
}
