import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createHasher, loadOrCreateServerKey } from '../registry/credentials.ts'
import { type Db, openDb } from '../registry/db.ts'
import { createDeviceRepo, type DeviceRepo } from '../registry/device-repo.ts'

describe('device presence is best effort (issue: a full data directory crashes the next connect)', () => {
  let dir: string
  let db: Db
  let repo: DeviceRepo
  let warnings: { obj: unknown; msg: string }[]

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sp-presence-'))
    db = openDb(dir)
    warnings = []
    const log = { warn: (obj: unknown, msg?: string) => void warnings.push({ obj, msg: msg ?? '' }) }
    repo = createDeviceRepo(db, createHasher(loadOrCreateServerKey(dir)), { log })
    repo.provision({ id: 'bin-1', type: 'bin', name: 'bin 1', site: 'north', latitude: null, longitude: null, uprn: null })
  })
  afterEach(() => {
    if (db.open) db.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('records presence while the database takes writes', () => {
    expect(repo.setPresence('bin-1', 'online', new Date('2030-01-01T00:00:00Z'))).toBe(true)
    expect(repo.get('bin-1')).toMatchObject({ presence: 'online', lastSeen: '2030-01-01T00:00:00.000Z' })
    expect(repo.presenceFailures).toBe(0)
  })

  it('returns false, counts and warns once instead of throwing when the database refuses the write', () => {
    // What SQLITE_FULL does to the statement, without filling a disk: the write is refused.
    db.pragma('query_only = 1')
    expect(() => repo.setPresence('bin-1', 'online', new Date())).not.toThrow()
    expect(repo.setPresence('bin-1', 'offline', new Date())).toBe(false)
    expect(repo.presenceFailures).toBe(2)
    expect(warnings).toHaveLength(1) // rate-limited: one per minute, not one per connect
    expect(warnings[0]!.msg).toBe('device presence not recorded')

    // And it recovers once the database takes writes again.
    db.pragma('query_only = 0')
    expect(repo.setPresence('bin-1', 'online', new Date())).toBe(true)
    expect(repo.get('bin-1')?.presence).toBe('online')
  })

  it('does not throw on a closed database either (e.g. a disconnect during shutdown)', () => {
    db.close()
    expect(repo.setPresence('bin-1', 'offline', new Date())).toBe(false)
    expect(repo.presenceFailures).toBe(1)
  })

  it('works without a logger, as openRegistry creates it', () => {
    const plain = createDeviceRepo(db, createHasher(loadOrCreateServerKey(dir)))
    db.pragma('query_only = 1')
    expect(plain.setPresence('bin-1', 'online', new Date())).toBe(false)
  })
})
