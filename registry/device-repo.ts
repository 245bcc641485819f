import type { Logger } from 'pino'
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
  /** Devices revoked at or after `sinceIso`, oldest first, so that another process can act on a revocation. */
  revokedSince(sinceIso: string): { id: string; revokedAt: string }[]
  /** Best effort: false (and counted) when the database cannot take the write; never throws. */
  setPresence(id: string, presence: Device['presence'], at: Date): boolean
  /** Presence updates lost to database errors since the repo was created. */
  readonly presenceFailures: number
}

export interface DeviceRepoOptions {
  log?: Pick<Logger, 'warn'>
}

// One warning per minute is enough to notice a full disk without a line per device connect.
const PRESENCE_WARN_EVERY_MS = 60_000

export function createDeviceRepo(db: Db, hasher: Hasher, opts: DeviceRepoOptions = {}): DeviceRepo {
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
  const revokedSince = db.prepare<[string], { id: string; revokedAt: string }>(
    'SELECT id, revoked_at AS revokedAt FROM devices WHERE revoked_at >= ? ORDER BY revoked_at, id',
  )
  let presenceFailures = 0
  let presenceWarnedAt = -Infinity

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
    revokedSince: (sinceIso) => revokedSince.all(sinceIso),
    setPresence(id, p, at) {
      // Called from the broker's connect and disconnect events, where a throw takes the process down:
      // a full disk must cost the presence column, not the service.
      try {
        presence.run(p, at.toISOString(), id)
        return true
      } catch (e) {
        presenceFailures++
        if (Date.now() - presenceWarnedAt >= PRESENCE_WARN_EVERY_MS) {
          presenceWarnedAt = Date.now()
          opts.log?.warn({ err: (e as Error).message, failures: presenceFailures }, 'device presence not recorded')
        }
        return false
      }
    },
    get presenceFailures() {
      return presenceFailures
    },
  }
}
