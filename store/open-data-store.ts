import type { Kysely } from 'kysely'
import type { Database, Iso } from './schema.ts'

export interface OpenDatasetsTable {
  id: string
  /** 0 or 1 on both dialects. */
  published: number
  changed_at: Iso
  changed_by: string
}

/** Tables this store owns; schema.ts's Database extends it. */
export type OpenDataTables = { open_datasets: OpenDatasetsTable }

export interface DatasetSwitch {
  id: string
  published: boolean
  changedAt: string
  changedBy: string
}

/** The publish switch of each open dataset. A dataset never switched has no entry, and is off. */
export interface OpenDataStore {
  list(): Promise<DatasetSwitch[]>
  /** Switches a dataset on or off; the caller has checked that the id names a defined dataset. */
  set(id: string, published: boolean, actor: string, at?: Date): Promise<DatasetSwitch>
}

export function createOpenDataStore(db: Kysely<Database>): OpenDataStore {
  return {
    async list() {
      const rows = await db.selectFrom('open_datasets').selectAll().orderBy('id').execute()
      return rows.map((r) => ({ id: r.id, published: Number(r.published) === 1, changedAt: r.changed_at, changedBy: r.changed_by }))
    },
    async set(id, published, actor, at = new Date()) {
      const values = { published: published ? 1 : 0, changed_at: at.toISOString(), changed_by: actor }
      await db
        .insertInto('open_datasets')
        .values({ id, ...values })
        .onConflict((oc) => oc.column('id').doUpdateSet(values))
        .execute()
      return { id, published, changedAt: values.changed_at, changedBy: actor }
    },
  }
}
