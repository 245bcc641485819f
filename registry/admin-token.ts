import type { Hasher } from './credentials.ts'
import { newSecret } from './credentials.ts'
import type { Db } from './db.ts'

export interface AdminTokens {
  /** A freshly generated token to print once, or null when one already exists or automation supplied it. */
  created: string | null
  verify(token: string): boolean
}

/**
 * Until people and roles arrive, the API is guarded by one admin token. It is
 * generated on first start (only its HMAC is kept) unless ADMIN_TOKEN is supplied.
 */
export function initAdminToken(db: Db, hasher: Hasher, supplied: string | undefined): AdminTokens {
  const get = db.prepare<[string], { value: Buffer }>('SELECT value FROM secrets WHERE name = ?')
  const put = db.prepare('INSERT OR REPLACE INTO secrets (name, value) VALUES (?, ?)')
  let created: string | null = null
  if (supplied) put.run('admin_token', hasher.hash(supplied))
  else if (!get.get('admin_token')) {
    created = newSecret()
    put.run('admin_token', hasher.hash(created))
  }
  const stored = get.get('admin_token')!.value
  return { created, verify: (token) => hasher.verify(token, stored) }
}
