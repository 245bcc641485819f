import webpush from 'web-push'
import { type Alert, AlertEventData, type Delivery, type PushMessage, quietHoursWait, type SendOutcome } from '#devices'
import type { PushStore } from '../store/push-store.ts'
import { retryAfterMs } from './backoff.ts'
import { requestPinned } from './http-post.ts'
import type { TargetPolicy } from './ssrf.ts'

export interface PushChannelOptions {
  push: Pick<PushStore, 'target' | 'prefs' | 'remove' | 'sent'>
  alert(id: string): Promise<Alert | null | undefined>
  deviceName(id: string): Promise<string | undefined>
  vapidKeys(): Promise<{ publicKey: string; privateKey: string }>
  /** The operator's contact for push services (VAPID_SUBJECT): mailto: or https:. */
  subject: string
  policy: TargetPolicy
  timeoutMs: number
  now?: () => number
}

/**
 * The Web Push channel adapter (RFC 8030/8291/8292 through `web-push`, sent by us to the address the
 * target policy checked). At send time it asks again whether the message is still wanted: an alert
 * acknowledged, resolved or cleared meanwhile sends nothing; in the person's quiet hours it waits
 * until they end. 404/410 from the push service: the phone unsubscribed, the subscription is dropped.
 */
export function createPushChannel(o: PushChannelOptions) {
  const now = o.now ?? Date.now
  return {
    async send(d: Delivery, signal?: AbortSignal): Promise<SendOutcome> {
      const target = await o.push.target(d.target)
      if (!target) return { kind: 'dead', error: 'the phone is no longer subscribed' }
      const a = AlertEventData.safeParse((JSON.parse(d.payload) as { data?: unknown }).data)
      if (!a.success) return { kind: 'dead', error: 'not an alert event' }
      const alert = await o.alert(a.data.alertId)
      if (alert && alert.status !== 'active') return { kind: 'skipped', reason: `the alert was ${alert.status} first` }
      const prefs = await o.push.prefs(target.personId)
      if (!prefs.push) return { kind: 'skipped', reason: 'the person turned push notifications off' }
      const wait = quietHoursWait(prefs.quietHours, now())
      if (wait !== null) return { kind: 'retry', error: `quiet hours until ${prefs.quietHours?.to}`, afterMs: wait }

      const message: PushMessage = {
        title: a.data.title,
        body: `${(await o.deviceName(a.data.deviceId)) ?? a.data.deviceId}, ${a.data.site}. Tap to open the alert.`,
        url: `/#alerts/${a.data.alertId}`,
        alertId: a.data.alertId,
        tag: `alert-${a.data.alertId}`,
      }
      const keys = await o.vapidKeys()
      const req = webpush.generateRequestDetails({ endpoint: target.endpoint, keys: target.keys }, JSON.stringify(message), {
        vapidDetails: { subject: o.subject, publicKey: keys.publicKey, privateKey: keys.privateKey },
        // An hour: a fire alert that reaches a phone the next morning helps nobody.
        TTL: 3600,
        urgency: 'high',
        contentEncoding: 'aes128gcm',
      })
      const url = new URL(req.endpoint)
      const check = await o.policy.check(url.hostname)
      if (!check.ok)
        return check.code === 'WEBHOOK_TARGET_REFUSED' ? { kind: 'dead', error: check.message } : { kind: 'retry', error: check.message }
      try {
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), String(v)]))
        const res = await requestPinned('POST', url, req.body as Buffer, {
          address: check.addresses[0]!,
          timeoutMs: o.timeoutMs,
          signal,
          headers,
          idempotent: true,
        })
        const said = res.body.trim() ? `: ${res.body.trim().slice(0, 300)}` : ''
        if (res.status >= 200 && res.status < 300) {
          await o.push.sent(target.id)
          return { kind: 'delivered', status: res.status }
        }
        if (res.status === 404 || res.status === 410) {
          await o.push.remove(target.id)
          return { kind: 'dead', error: `HTTP ${res.status}: the push service says the subscription is gone; it was removed${said}` }
        }
        if (res.status === 429 || res.status >= 500)
          return {
            kind: 'retry',
            error: `HTTP ${res.status}${said}`,
            afterMs: retryAfterMs(res.headers['retry-after'] as string | undefined),
          }
        return { kind: 'dead', error: `HTTP ${res.status}${said}` }
      } catch (e) {
        return { kind: 'retry', error: (e as Error).message || String(e) }
      }
    },
  }
}
export type PushChannel = ReturnType<typeof createPushChannel>
