import { createHmac } from 'node:crypto'
import { WEBHOOK_SECRET_PREFIX } from '#devices'

/** The HMAC key of a `whsec_…` secret: the base64-decoded bytes after the prefix (standards.md §2). */
export function keyOfSecret(secret: string): Buffer {
  const b64 = secret.startsWith(WEBHOOK_SECRET_PREFIX) ? secret.slice(WEBHOOK_SECRET_PREFIX.length) : secret
  return Buffer.from(b64, 'base64')
}

/**
 * The `webhook-signature` header: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` for each key,
 * space-separated (during a rotation the old key signs too, and a receiver accepts any match).
 * `body` is the exact text sent.
 */
export function signatureHeader(keys: readonly Buffer[], id: string, timestampS: number, body: string): string {
  if (id.includes('.')) throw new Error('a webhook-id must not contain "."')
  const content = `${id}.${timestampS}.${body}`
  return keys.map((k) => `v1,${createHmac('sha256', k).update(content).digest('base64')}`).join(' ')
}

/** The three Standard Webhooks headers of one attempt (the timestamp is this attempt's). */
export function webhookHeaders(keys: readonly Buffer[], id: string, body: string, nowMs = Date.now()): Record<string, string> {
  const ts = Math.floor(nowMs / 1000)
  return { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signatureHeader(keys, id, ts, body) }
}
