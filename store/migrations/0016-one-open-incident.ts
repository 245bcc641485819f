import { type Kysely, type Migration, sql } from 'kysely'

/**
 * One open incident per site (issue 15): in cluster mode the engines of several partitions see a
 * site go quiet at once, and the first to open its incident must be the one the others join. Open
 * incidents of one site (a cluster before this) are merged into the first opened, and counted again.
 * Upgrade every node of a cluster before this runs: an older node's plain insert is refused by the index.
 */
export function oneOpenIncident(): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's Database type
    async up(db: Kysely<any>) {
      const open = (await db
        .selectFrom('incidents')
        .select(['id', 'site'])
        .where('status', '=', 'open')
        .orderBy('opened_at', 'asc')
        .orderBy('id', 'asc')
        .execute()) as { id: string; site: string }[]
      const kept = new Map<string, string>()
      const merged = new Set<string>()
      for (const i of open) {
        const into = kept.get(i.site)
        if (!into) {
          kept.set(i.site, i.id)
          continue
        }
        await db.updateTable('alerts').set({ incident_id: into }).where('incident_id', '=', i.id).execute()
        await db.deleteFrom('incidents').where('id', '=', i.id).execute()
        merged.add(into)
      }
      // Counted again from the alerts now under it, as the incident store counts (devices, not alerts).
      for (const id of merged) {
        const count = async (silentOnly: boolean) => {
          let q = db
            .selectFrom('alerts')
            .select((eb) => eb.fn.count('device_id').distinct().as('n'))
            .where('incident_id', '=', id)
          if (silentOnly) q = q.where('cleared_at', 'is', null)
          return Number(((await q.executeTakeFirst()) as { n: number | string } | undefined)?.n ?? 0)
        }
        await db
          .updateTable('incidents')
          .set({ devices: await count(false), silent: await count(true) })
          .where('id', '=', id)
          .execute()
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
