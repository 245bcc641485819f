import type { Kysely } from 'kysely'
import type { Database } from './schema.ts'

/** Thrown when a former owner of a log partition tries to commit: its effects would race the new owner's. */
export class FencedError extends Error {
  readonly code = 'FENCED'
  constructor(reader: string, epoch: number) {
    super(`FENCED: ${reader} is read by a newer owner than epoch ${epoch}; this node stops reading it`)
  }
}

/**
 * Fences for the readers of a partition of the replicated log (cluster mode). The node that takes
 * a partition claims each reader's fence with its lease's revision (which only grows) before it
 * loads anything; every commit of effects then checks, in its own transaction, that the fence is
 * still its own. On PostgreSQL the UPDATE locks the row until the transaction ends, so a claim
 * and a former owner's commit take turns: the new owner loads what the old one committed, and
 * nothing the old one tries afterwards commits.
 */
export async function claimFence(db: Kysely<Database>, reader: string, epoch: number): Promise<void> {
  const at = new Date().toISOString()
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('reader_fences')
      .values({ reader, epoch, updated_at: at })
      .onConflict((oc) => oc.column('reader').doNothing())
      .execute()
    const r = await trx
      .updateTable('reader_fences')
      .set({ epoch, updated_at: at })
      .where('reader', '=', reader)
      .where('epoch', '<=', epoch)
      .executeTakeFirst()
    if (Number(r.numUpdatedRows) === 0) throw new FencedError(reader, epoch)
  })
}

/** Inside a commit's transaction: refuses it unless `epoch` still holds the reader's fence. */
export async function checkFence(trx: Kysely<Database>, reader: string, epoch: number | undefined): Promise<void> {
  if (epoch === undefined) return
  const r = await trx.updateTable('reader_fences').set({ epoch }).where('reader', '=', reader).where('epoch', '=', epoch).executeTakeFirst()
  if (Number(r.numUpdatedRows) === 0) throw new FencedError(reader, epoch)
}
