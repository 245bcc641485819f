import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { openStore } from '../../store/db.ts'

/**
 * DATABASE_PASSWORD_FILE: PostgreSQL's password from a file (Compose's cluster profile gives its
 * PostgreSQL one, and no longer trusts every connection). The suite's PostgreSQL trusts loopback, so
 * for one role of its own this test asks for a password (scram-sha-256) in pg_hba.conf, then puts it back.
 */
describe('PostgreSQL password from a file', () => {
  const role = `sp_pw_${randomBytes(4).toString('hex')}`
  const password = randomBytes(24).toString('hex')
  const dir = mkdtempSync(join(tmpdir(), 'sp-pgpass-'))
  const admin = new pg.Client({ connectionString: inject('postgresUrl') })
  let hbaFile = ''
  let hbaBefore = ''
  let url = ''

  beforeAll(async () => {
    await admin.connect()
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`)
    hbaFile = (await admin.query<{ hba_file: string }>('SHOW hba_file')).rows[0]!.hba_file
    hbaBefore = readFileSync(hbaFile, 'utf8')
    writeFileSync(hbaFile, `host all ${role} 127.0.0.1/32 scram-sha-256\n${hbaBefore}`)
    await admin.query('SELECT pg_reload_conf()')
    const u = new URL(inject('postgresUrl'))
    u.username = role
    u.password = ''
    url = u.href
  })

  afterAll(async () => {
    if (hbaBefore) writeFileSync(hbaFile, hbaBefore)
    await admin.query('SELECT pg_reload_conf()')
    await admin.query(`DROP ROLE IF EXISTS ${role}`)
    await admin.end()
    rmSync(dir, { recursive: true, force: true })
  })

  const selectOne = async (passwordFile?: string) => {
    const store = openStore({ dataDir: dir, databaseUrl: url, passwordFile })
    try {
      return (await sql<{ one: number }>`select 1 as one`.execute(store.db)).rows[0]?.one
    } finally {
      await store.close()
    }
  }

  it('signs in with the password the file holds (less its final newline), and not without it', async () => {
    const good = join(dir, 'good')
    writeFileSync(good, `${password}\n`, { mode: 0o600 })
    expect(await selectOne(good)).toBe(1)
    const wrong = join(dir, 'wrong')
    writeFileSync(wrong, 'not-the-password\n', { mode: 0o600 })
    await expect(selectOne(wrong)).rejects.toThrow(/password authentication failed/)
    await expect(selectOne()).rejects.toThrow(/password/)
  })

  it('stops with a stable code when the file cannot be read', () => {
    expect(() => openStore({ dataDir: dir, databaseUrl: url, passwordFile: join(dir, 'missing') })).toThrow(
      /^CONFIG_SECRET_UNREADABLE: DATABASE_PASSWORD_FILE: cannot read .*missing \(ENOENT\)/,
    )
  })
})
