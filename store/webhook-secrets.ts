import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

/**
 * Webhook signing keys are kept encrypted (AES-256-GCM) under a key derived from the server key,
 * which lives beside the data and never in the database: a copy of the database alone cannot sign
 * as the service. They cannot be hashed like device secrets, since the service must compute HMACs.
 */
export interface SecretBox {
  seal(plain: Buffer): Buffer
  open(sealed: Buffer): Buffer
}

const IV = 12
const TAG = 16

/** `purpose` keeps the keys of different uses apart (HKDF info). */
export function createSecretBox(serverKey: Buffer, purpose = 'smartplace webhook signing keys'): SecretBox {
  const key = Buffer.from(hkdfSync('sha256', serverKey, Buffer.alloc(0), purpose, 32))
  return {
    seal(plain) {
      const iv = randomBytes(IV)
      const c = createCipheriv('aes-256-gcm', key, iv)
      const body = Buffer.concat([c.update(plain), c.final()])
      return Buffer.concat([iv, c.getAuthTag(), body])
    },
    open(sealed) {
      const b = Buffer.from(sealed)
      const d = createDecipheriv('aes-256-gcm', key, b.subarray(0, IV))
      d.setAuthTag(b.subarray(IV, IV + TAG))
      return Buffer.concat([d.update(b.subarray(IV + TAG)), d.final()])
    },
  }
}
