import { type Device, DeviceInput, deviceTypeOf } from '#devices'
import type { Hasher } from './credentials.ts'
import { newSecret } from './credentials.ts'
import type { Db } from './db.ts'

interface Row {
  id: string
  type: Device['type']
  name: string
  site: string
  latitude: number | null
  longitude: number | null
  uprn: string | null
  interval_s: number
  secret_hmac: Buffer
  created_at: string
  presence: Device['presence']
  last_seen: string | null
}

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

export type ProvisionResult = { ok: true; device: Device; secret: string } | { ok: false; code: 'CONFLICT' }

export interface DeviceRepo {
  provision(input: DeviceInput): ProvisionResult
  /** Checks a device's secret; null for unknown, revoked or wrong secret (callers cannot tell which). */
  authenticate(id: string, secret: string): Device | null
  get(id: string): Device | null
  list(filter?: { type?: string; site?: string }): Device[]
  revoke(id: string): boolean
  setPresence(id: string, presence: Device['presence'], at: Date): void
}

export function createDeviceRepo(db: Db, hasher: Hasher): DeviceRepo {
  const insert = db.prepare(
    `INSERT INTO devices (id, type, name, site, latitude, longitude, uprn, interval_s, secret_hmac, created_at)
     VALUES (@id, @type, @name, @site, @latitude, @longitude, @uprn, @interval_s, @secret_hmac, @created_at)`,
  )
  const byId = db.prepare<[string], Row>('SELECT * FROM devices WHERE id = ? AND revoked_at IS NULL')
  const all = db.prepare<[], Row>('SELECT * FROM devices WHERE revoked_at IS NULL ORDER BY id')
  // Revoked ids stay reserved so that an old secret can never match a new device with the same id.
  const exists = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM devices WHERE id = ?')
  const revoke = db.prepare('UPDATE devices SET revoked_at = ?, presence = ? WHERE id = ? AND revoked_at IS NULL')
  const presence = db.prepare('UPDATE devices SET presence = ?, last_seen = ? WHERE id = ?')

  return {
    provision(raw) {
      const input = DeviceInput.parse(raw)
      if (exists.get(input.id)!.n > 0) return { ok: false, code: 'CONFLICT' }
      const secret = newSecret()
      const createdAt = new Date().toISOString()
      insert.run({
        ...input,
        interval_s: input.intervalS ?? deviceTypeOf(input.type)!.defaultIntervalS,
        secret_hmac: hasher.hash(secret),
        created_at: createdAt,
      })
      return { ok: true, device: toDevice(byId.get(input.id)!), secret }
    },
    authenticate(id, secret) {
      const row = byId.get(id)
      if (!row || !hasher.verify(secret, row.secret_hmac)) return null
      return toDevice(row)
    },
    get: (id) => {
      const row = byId.get(id)
      return row ? toDevice(row) : null
    },
    list(filter = {}) {
      return all
        .all()
        .filter((r) => (!filter.type || r.type === filter.type) && (!filter.site || r.site === filter.site))
        .map(toDevice)
    },
    revoke: (id) => revoke.run(new Date().toISOString(), 'offline', id).changes > 0,
    setPresence(id, p, at) {
      presence.run(p, at.toISOString(), id)
    },
  }
}
