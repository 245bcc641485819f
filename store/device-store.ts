import type { Kysely, Selectable } from 'kysely'
import { type Device, DeviceInput, deviceTypeOf, type Visible } from '#devices'
import type { Hasher } from '../registry/credentials.ts'
import { newSecret } from '../registry/credentials.ts'
import type { Database, DevicesTable } from './schema.ts'
import { visibleWhere } from './visible.ts'

export interface DeviceFilter {
  type?: string | undefined
  site?: string | undefined
  /** Only what a caller may see (scope.visible()); an empty list shows nothing. */
  visible?: readonly Visible[] | undefined
  /** Ids after this one (the list is by id), for paging. */
  after?: string | undefined
  /** Unset: every device (the command line lists them all). */
  limit?: number | undefined
}

export type ProvisionResult = { ok: true; device: Device; secret: string } | { ok: false; code: 'CONFLICT' }

export interface DeviceStore {
  provision(input: DeviceInput): Promise<ProvisionResult>
  /** Checks a device's secret; null for unknown, revoked or wrong secret (callers cannot tell which). */
  authenticate(id: string, secret: string): Promise<Device | null>
  get(id: string): Promise<Device | null>
  list(filter?: DeviceFilter): Promise<Device[]>
  revoke(id: string): Promise<boolean>
  /**
   * `since`, for offline: when the connection that ended began. A device that has moved to another
   * node (cluster mode) was marked online by its new connection after that, and stays online.
   */
  setPresence(id: string, presence: Device['presence'], at: Date, since?: Date): Promise<void>
}

type Row = Selectable<DevicesTable>

const toDevice = (r: Row): Device => ({
  id: r.id,
  type: r.type,
  name: r.name,
  site: r.site,
  latitude: r.latitude,
  longitude: r.longitude,
  uprn: r.uprn,
  intervalS: r.interval_s,
  createdAt: r.created_at,
  presence: r.presence,
  lastSeen: r.last_seen,
})

export function createDeviceStore(db: Kysely<Database>, hasher: Hasher): DeviceStore {
  const live = () => db.selectFrom('devices').selectAll().where('revoked_at', 'is', null)
  const byId = (id: string) => live().where('id', '=', id).executeTakeFirst()

  return {
    async provision(raw) {
      const input = DeviceInput.parse(raw)
      const secret = newSecret()
      // Revoked ids keep their row, so the primary key alone reserves them: an old secret never matches a new device.
      // Conflict-and-do-nothing instead of check-then-insert: two concurrent provisions cannot both win.
      const row = await db
        .insertInto('devices')
        .values({
          id: input.id,
          type: input.type,
          name: input.name,
          site: input.site,
          latitude: input.latitude,
          longitude: input.longitude,
          uprn: input.uprn,
          interval_s: input.intervalS ?? deviceTypeOf(input.type)!.defaultIntervalS,
          secret_hmac: hasher.hash(secret),
          created_at: new Date().toISOString(),
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .returningAll()
        .executeTakeFirst()
      return row ? { ok: true, device: toDevice(row), secret } : { ok: false, code: 'CONFLICT' }
    },
    async authenticate(id, secret) {
      const row = await byId(id)
      if (!row || !hasher.verify(secret, row.secret_hmac)) return null
      return toDevice(row)
    },
    async get(id) {
      const row = await byId(id)
      return row ? toDevice(row) : null
    },
    async list(filter = {}) {
      let q = live().orderBy('id')
      if (filter.type) q = q.where('type', '=', filter.type as Device['type'])
      if (filter.site) q = q.where('site', '=', filter.site)
      if (filter.after !== undefined) q = q.where('id', '>', filter.after)
      if (filter.visible) {
        const visible = visibleWhere(filter.visible, 'type')
        if (!visible) return []
        q = q.where(visible)
      }
      if (filter.limit !== undefined) q = q.limit(filter.limit)
      return (await q.execute()).map(toDevice)
    },
    async revoke(id) {
      const r = await db
        .updateTable('devices')
        .set({ revoked_at: new Date().toISOString(), presence: 'offline' })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst()
      return r.numUpdatedRows > 0n
    },
    async setPresence(id, presence, at, since) {
      let q = db.updateTable('devices').set({ presence, last_seen: at.toISOString() }).where('id', '=', id)
      if (since) q = q.where((eb) => eb.or([eb('presence', '<>', 'online'), eb('last_seen', '<=', since.toISOString())]))
      await q.execute()
    },
  }
}
