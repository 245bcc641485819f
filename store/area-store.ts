import type { Kysely } from 'kysely'
import type { Area } from '../devices/index.ts'
import type { Database, Iso } from './schema.ts'

export interface AreasTable {
  id: string
  name: string
  kind: Area['kind']
  updated_at: Iso
  updated_by: string
}

export interface AreaSitesTable {
  area_id: string
  site: string
}

export type AreaTables = { areas: AreasTable; area_sites: AreaSitesTable }

export interface AreaStore {
  list(): Promise<Area[]>
  get(id: string): Promise<Area | undefined>
  /** Creates or replaces an area and its sites, in one transaction. */
  put(area: Area, actor: string, at?: Date): Promise<Area>
  delete(id: string): Promise<boolean>
  /** Every area's sites, for resolving grants; one query. */
  sitesByArea(): Promise<Map<string, string[]>>
  /** Those of these ids that name no area, for refusing a grant that would silently grant nothing. */
  missing(ids: readonly string[]): Promise<string[]>
}

export function createAreaStore(db: Kysely<Database>): AreaStore {
  const sitesByArea = async () => {
    const rows = await db.selectFrom('area_sites').selectAll().orderBy('area_id').orderBy('site').execute()
    const m = new Map<string, string[]>()
    for (const r of rows) {
      const l = m.get(r.area_id)
      if (l) l.push(r.site)
      else m.set(r.area_id, [r.site])
    }
    return m
  }
  const list = async () => {
    const [areas, sites] = await Promise.all([db.selectFrom('areas').selectAll().orderBy('id').execute(), sitesByArea()])
    return areas.map((a) => ({ id: a.id, name: a.name, kind: a.kind, sites: sites.get(a.id) ?? [] }))
  }
  return {
    list,
    async get(id) {
      return (await list()).find((a) => a.id === id)
    },
    async put(area, actor, at = new Date()) {
      await db.transaction().execute(async (trx) => {
        const row = { name: area.name, kind: area.kind, updated_at: at.toISOString(), updated_by: actor }
        await trx
          .insertInto('areas')
          .values({ id: area.id, ...row })
          .onConflict((oc) => oc.column('id').doUpdateSet(row))
          .execute()
        await trx.deleteFrom('area_sites').where('area_id', '=', area.id).execute()
        const sites = [...new Set(area.sites)]
        if (sites.length > 0)
          await trx
            .insertInto('area_sites')
            .values(sites.map((site) => ({ area_id: area.id, site })))
            .execute()
      })
      return { ...area, sites: [...new Set(area.sites)].sort() }
    },
    async delete(id) {
      return db.transaction().execute(async (trx) => {
        await trx.deleteFrom('area_sites').where('area_id', '=', id).execute()
        const r = await trx.deleteFrom('areas').where('id', '=', id).executeTakeFirst()
        return Number(r.numDeletedRows) > 0
      })
    },
    sitesByArea,
    async missing(ids) {
      const wanted = [...new Set(ids)]
      if (wanted.length === 0) return []
      const found = new Set((await db.selectFrom('areas').select('id').where('id', 'in', wanted).execute()).map((r) => r.id))
      return wanted.filter((id) => !found.has(id))
    },
  }
}
