import { randomUUID } from 'node:crypto'
import type { Kysely, Selectable } from 'kysely'
import type { Incident } from '#devices'
import type { IncidentPort } from '../alerts/engine.ts'
import type { Database, IncidentsTable } from './schema.ts'

const toIncident = (r: Selectable<IncidentsTable>): Incident => ({
  id: r.id,
  site: r.site,
  kind: r.kind,
  title: r.title,
  status: r.status,
  openedAt: r.opened_at,
  clearedAt: r.cleared_at,
  devices: r.devices,
  silent: r.silent,
})

export interface IncidentStore extends IncidentPort {
  /** The site's open incident, opened now or found open. */
  open(site: string, at: number, devices: number): Promise<Incident>
  get(id: string): Promise<Incident | null>
  /** `sites`: only incidents at these sites (a caller's scope); an empty list shows nothing. */
  list(filter?: { status?: Incident['status']; site?: string; sites?: readonly string[] | undefined; limit?: number }): Promise<Incident[]>
}

export function createIncidentStore(db: Kysely<Database>): IncidentStore {
  const get = async (id: string) => {
    const r = await db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirst()
    return r ? toIncident(r) : null
  }
  const store: IncidentStore = {
    get,
    async list(f = {}) {
      let q = db.selectFrom('incidents').selectAll()
      if (f.status) q = q.where('status', '=', f.status)
      if (f.site) q = q.where('site', '=', f.site)
      if (f.sites) {
        if (f.sites.length === 0) return []
        q = q.where('site', 'in', [...f.sites])
      }
      const rows = await q
        .orderBy('opened_at', 'desc')
        .limit(Math.min(f.limit ?? 100, 1000))
        .execute()
      return rows.map(toIncident)
    },
    async open(site, at, devices) {
      return (await store.openOrJoin(site, at, devices)).incident
    },
    async openOrJoin(site, at, devices) {
      // One open incident per site (a unique index): an engine that finds one opened by another joins it.
      // Cleared between the insert and the look: then there is none to join, and the insert is tried again.
      for (let attempt = 0; attempt < 3; attempt++) {
        const row = await db
          .insertInto('incidents')
          .values({
            id: randomUUID(),
            site,
            kind: 'site-silent',
            title: `${devices} devices at ${site} stopped reporting together`,
            status: 'open',
            opened_at: new Date(at).toISOString(),
            cleared_at: null,
            devices: 0,
            silent: 0,
          })
          // The only other unique key is the random id.
          .onConflict((oc) => oc.doNothing())
          .returningAll()
          .executeTakeFirst()
        if (row) return { incident: toIncident(row), created: true }
        const open = await db.selectFrom('incidents').selectAll().where('site', '=', site).where('status', '=', 'open').executeTakeFirst()
        if (open) return { incident: toIncident(open), created: false }
      }
      throw new Error(`could not open or find the open incident of ${site}`)
    },
    async isOpen(id) {
      const r = await db.selectFrom('incidents').select('status').where('id', '=', id).executeTakeFirst()
      return r?.status === 'open'
    },
    async openIncidents() {
      return (await db.selectFrom('incidents').selectAll().where('status', '=', 'open').execute()).map(toIncident)
    },
    async refresh(id, at) {
      // Counted from the alerts themselves, so a crash between an alert and this count cannot leave it wrong for long.
      // Silent means the data has not cleared it: a person resolving an offline alert does not bring its device back.
      const count = (silentOnly: boolean) => {
        // Devices, not alerts: a device that went quiet twice under one incident counts once.
        let q = db
          .selectFrom('alerts')
          .select((eb) => eb.fn.count<number>('device_id').distinct().as('n'))
          .where('incident_id', '=', id)
        if (silentOnly) q = q.where('cleared_at', 'is', null)
        return q.executeTakeFirstOrThrow()
      }
      const [all, quiet] = await Promise.all([count(false), count(true)])
      const devices = Number(all.n)
      const silent = Number(quiet.n)
      const ended = devices > 0 && silent === 0
      await db
        .updateTable('incidents')
        .set({ devices, silent, ...(ended && { status: 'cleared', cleared_at: new Date(at).toISOString() }) })
        .where('id', '=', id)
        .where('status', '=', 'open')
        .execute()
      return get(id)
    },
  }
  return store
}
