import type { Delivery, SendOutcome } from '#devices'
import type { WebhookSigning, WebhookStore } from '../store/webhook-store.ts'
import { retryAfterMs } from './backoff.ts'
import { postPinned } from './http-post.ts'
import { webhookHeaders } from './signature.ts'
import type { TargetPolicy } from './ssrf.ts'

export interface WebhookChannelOptions {
  webhooks: Pick<WebhookStore, 'signing'>
  policy: TargetPolicy
  timeoutMs: number
  userAgent?: string
  /** How long a subscription's URL and unsealed keys are kept between deliveries (default 10 s). */
  keysForMs?: number
  now?: () => number
}

/** Statuses that say "later" (standards.md §2): Retry-After is honoured on these. */
const THROTTLE = new Set([429, 502, 503, 504])

/**
 * The webhook channel adapter (design D13): one signed POST per attempt, judged by its status.
 * 2xx delivered; 410 dead (the receiver asks to stop); 3xx failure (redirects are not followed);
 * anything else, a timeout or a network error is retried. The target is checked again at each
 * attempt and the request goes to the address that was checked (no DNS rebinding in between).
 */
export function createWebhookChannel(o: WebhookChannelOptions) {
  const now = o.now ?? Date.now
  const keysForMs = o.keysForMs ?? 10_000
  // Reading and unsealing the keys for every delivery was a query and two AES-GCM opens per POST;
  // a rotation or deletion forgets them at once (forget()), and the previous key never outlives its overlap.
  const kept = new Map<string, { sub: WebhookSigning; until: number }>()
  // A read that began before a forget() (a rotation) must not keep the keys it read.
  let generation = 0
  const signing = async (id: string) => {
    const t = now()
    const hit = kept.get(id)
    if (hit && hit.until > t) return hit.sub
    const began = generation
    const sub = await o.webhooks.signing(id, new Date(t))
    if (!sub) kept.delete(id)
    else if (began === generation) kept.set(id, { sub, until: Math.min(t + keysForMs, sub.changesAt ?? Number.POSITIVE_INFINITY) })
    return sub
  }
  return {
    /** A subscription was rotated or deleted: read its keys again at the next delivery. */
    forget() {
      generation++
      kept.clear()
    },
    async send(d: Delivery, signal?: AbortSignal): Promise<SendOutcome> {
      const sub = await signing(d.target)
      if (!sub) return { kind: 'dead', error: 'the subscription was deleted' }
      const url = new URL(sub.url)
      const check = await o.policy.check(url.hostname)
      if (!check.ok)
        return check.code === 'WEBHOOK_TARGET_REFUSED' ? { kind: 'dead', error: check.message } : { kind: 'retry', error: check.message }
      const headers = { ...webhookHeaders(sub.keys, d.eventId, d.payload), 'user-agent': o.userAgent ?? 'smartplace-webhooks/1' }
      try {
        const res = await postPinned(url, d.payload, {
          ...{ address: check.addresses[0]!, timeoutMs: o.timeoutMs, signal, headers },
          idempotent: true,
        })
        const said = res.body.trim() ? `: ${res.body.trim().slice(0, 300)}` : ''
        if (res.status >= 200 && res.status < 300) return { kind: 'delivered', status: res.status }
        if (res.status === 410) return { kind: 'dead', error: `410 Gone: the receiver asked to stop${said}` }
        if (res.status >= 300 && res.status < 400)
          return { kind: 'retry', error: `${res.status} redirect to ${res.headers.location ?? '(none)'} not followed${said}` }
        const after = THROTTLE.has(res.status) ? retryAfterMs(res.headers['retry-after'] as string | undefined) : undefined
        return { kind: 'retry', error: `HTTP ${res.status}${said}`, afterMs: after }
      } catch (e) {
        return { kind: 'retry', error: (e as Error).message || String(e) }
      }
    },
  }
}
export type WebhookChannel = ReturnType<typeof createWebhookChannel>
