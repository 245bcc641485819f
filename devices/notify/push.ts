import { z } from 'zod'
import { londonOffsetMs } from '../calendar/london-time.ts'

/**
 * Notifications to people (issue 14, standards.md §3): Web Push subscriptions from the crew view,
 * and each person's choice of channels and quiet hours.
 */

/** 65 bytes starting 0x04 (an uncompressed P-256 point) and 16 bytes, as base64url: 87 and 22 characters. */
const P256_POINT = /^B[A-P][A-Za-z0-9_-]{85}(=)?$/
const AUTH_SECRET = /^[A-Za-z0-9_-]{22}(==)?$/

/** A browser's PushSubscription.toJSON() (W3C Push API): an endpoint and the keys to encrypt to (RFC 8291). */
export const PushSubscriptionInput = z.object({
  endpoint: z
    .string()
    .max(2000)
    .pipe(z.url({ protocol: /^https?$/, error: 'an http or https URL' })),
  expirationTime: z.number().nullable().optional(),
  keys: z.object({
    /** The browser's P-256 public key, uncompressed (65 bytes starting 0x04). */
    p256dh: z.string().regex(P256_POINT, 'an uncompressed P-256 public key (65 bytes from 0x04), base64url'),
    /** The 16-byte authentication secret. */
    auth: z.string().regex(AUTH_SECRET, '16 bytes, base64url'),
  }),
})
export type PushSubscriptionInput = z.infer<typeof PushSubscriptionInput>

/** A stored subscription as its owner sees it: never the keys. */
export const PushSubscriptionView = z.object({
  id: z.string(),
  endpointOrigin: z.string().describe('the push service, e.g. https://fcm.googleapis.com'),
  createdAt: z.string(),
  lastSentAt: z.string().nullable(),
})
export type PushSubscriptionView = z.infer<typeof PushSubscriptionView>

const Clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 24-hour, London time')

/** What a person wants sent to them, and when not. */
export const NotificationPrefs = z.strictObject({
  push: z.boolean().describe("critical alerts in the person's areas, to the phones they subscribed"),
  email: z.boolean().describe('critical alerts by email, at once'),
  digest: z.boolean().describe('a daily email of what needs them'),
  quietHours: z
    .strictObject({ from: Clock, to: Clock })
    .nullable()
    .describe('London time; immediate messages wait until it ends (and are dropped if the alert was acknowledged by then)'),
})
export type NotificationPrefs = z.infer<typeof NotificationPrefs>
export const DEFAULT_PREFS: NotificationPrefs = { push: true, email: false, digest: false, quietHours: null }

/** What a push message carries to the service worker (encrypted, at most 3,993 bytes). */
export const PushMessage = z.object({
  title: z.string(),
  body: z.string(),
  /** Where a tap opens: the alert's page. */
  url: z.string(),
  alertId: z.string(),
  /** Replaces an earlier notification of the same alert on the phone. */
  tag: z.string(),
})
export type PushMessage = z.infer<typeof PushMessage>

/** Minutes since London midnight; quiet hours may wrap midnight (22:00–07:00). */
export function inQuietHours(q: NotificationPrefs['quietHours'], londonMinutes: number): boolean {
  if (!q) return false
  const m = (c: string) => Number(c.slice(0, 2)) * 60 + Number(c.slice(3))
  const [from, to] = [m(q.from), m(q.to)]
  if (from === to) return false
  return from < to ? londonMinutes >= from && londonMinutes < to : londonMinutes >= from || londonMinutes < to
}

const MINUTE = 60_000

/** Minutes since London midnight at `now`. */
export const londonMinutes = (now: number) => Math.floor((now + londonOffsetMs(now)) / MINUTE) % 1440

/**
 * How long an immediate message must wait for the person's quiet hours to end, in ms; null when
 * it may go now. The end is a London wall-clock time, so it moves with the clocks.
 */
export function quietHoursWait(q: NotificationPrefs['quietHours'], now: number): number | null {
  if (!q || !inQuietHours(q, londonMinutes(now))) return null
  const local = now + londonOffsetMs(now)
  const target = Number(q.to.slice(0, 2)) * 60 + Number(q.to.slice(3))
  return ((target - londonMinutes(now) + 1440) % 1440 || 1440) * MINUTE - (local % MINUTE)
}
