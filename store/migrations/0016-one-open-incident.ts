import { type Kysely, type Migration, sql } from 'kysely'

/**
 * One open incident per site (issue 15): in cluster mode the engines of several partitions see a
 * site go quiet at once, and the first to open its incident must be the one the others join. Two
 * open incidents of one site (a cluster before this) are merged into the newer first.
 */
export function oneOpenIncident(): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's Database type
    async up(db: Kysely<any>) {
      const open = (await db
        .selectFrom('incidents')
        .select(['id', 'site'])
        .where('status', '=', 'open')
        .orderBy('opened_at', 'desc')
        .orderBy('id', 'desc')
        .execute()) as { id: string; site: string }[]
      const kept = new Map<string, string>()
      for (const i of open) {
        const into = kept.get(i.site)
        if (!into) {
          kept.set(i.site, i.id)
          continue
        }
        await db.updateTable('alerts').set({ incident_id: into }).where('incident_id', '=', i.id).execute()
        await db.deleteFrom('incidents').where('id', '=', i.id).execute()
      }
      await db.schema
        .createIndex('incidents_one_open')
        .ifNotExists()
        .unique()
        .on('incidents')
        .column('site')
        .where(sql.ref('status'), '=', 'open')
        .execute()
    },
  }
}
