import type { Kysely, Migration } from 'kysely'
import type { Dialect } from '../dialect.ts'

/**
 * A bin's place along its round: the order the round's bins were given in (PUT
 * /api/rounds/:id/bins), which is the order the crew drives them. Bins placed before this
 * migration keep their old order (by id), numbered from 0.
 */
export function roundStops(_d: Dialect): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's Database type
    async up(db: Kysely<any>) {
      await db.schema
        .alterTable('round_bins')
        .addColumn('stop', 'integer', (c) => c.notNull().defaultTo(0))
        .execute()
      const rows = (await db
        .selectFrom('round_bins')
        .select(['round_id', 'device_id'])
        .orderBy('round_id')
        .orderBy('device_id')
        .execute()) as {
        round_id: string
        device_id: string
      }[]
      const next = new Map<string, number>()
      for (const r of rows) {
        const stop = next.get(r.round_id) ?? 0
        next.set(r.round_id, stop + 1)
        if (stop > 0) await db.updateTable('round_bins').set({ stop }).where('device_id', '=', r.device_id).execute()
      }
    },
  }
}
