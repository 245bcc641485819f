import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Device and admin secrets are 256-bit random tokens; only HMAC-SHA-256(key, token)
 * is stored (design D8). A fast keyed hash is enough for high-entropy secrets and
 * keeps a reconnect storm from burning the CPU on a slow KDF.
 */
export interface Hasher {
  hash(secret: string): Buffer
  verify(secret: string, stored: Buffer): boolean
}

export function newSecret(): string {
  return randomBytes(32).toString('base64url')
}

export function createHasher(key: Buffer): Hasher {
  const hash = (secret: string) => createHmac('sha256', key).update(secret).digest()
  return {
    hash,
    verify(secret, stored) {
      const h = hash(secret)
      return h.length === stored.length && timingSafeEqual(h, stored)
    },
  }
}

/** The server's HMAC key lives beside the database, readable by the service user only. */
export function loadOrCreateServerKey(dataDir: string, keyFile?: string): Buffer {
  // Cluster mode: one key that every node reads (SERVER_KEY_FILE), made by the operator, never by us.
  if (keyFile) {
    if (!existsSync(keyFile))
      throw new Error(
        `SERVER_KEY_FILE ${keyFile} does not exist: make it once with \`openssl rand -base64 32 > ${keyFile}\` and give every node the same file`,
      )
    const key = Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64')
    if (key.length < 32) throw new Error(`SERVER_KEY_FILE ${keyFile} holds ${key.length} bytes; it needs 32 (openssl rand -base64 32)`)
    return key
  }
  const file = join(dataDir, 'server.key')
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')
  const key = randomBytes(32)
  writeFileSync(file, key.toString('base64'), { mode: 0o600, flag: 'wx' })
  return key
}
