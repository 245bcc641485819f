import { z } from 'zod'
import { Severity } from '../alerts/rule.ts'
import { HazardCategory } from '../awaab/case.ts'
import type { DeliveryEventType } from '../outbox/delivery.ts'

/**
 * Email to people (issue 14): a critical alert at once, and a daily digest of what needs them.
 * Both go through the outbox (channel `email`, target the person's id) and are composed when they
 * are sent, so a mail never says what was true only when it was queued.
 */

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/

/** A digest delivery's payload: which person and which London day; the content is read at send time. */
export const DigestPayload = z.strictObject({
  type: z.literal('digest'),
  personId: z.string().min(1),
  date: z.string().regex(ISO_DATE).describe('the London day the digest is for'),
})
export type DigestPayload = z.infer<typeof DigestPayload>

/** One digest per person and day: the outbox's unique (channel, target, event) key makes a second one a no-op. */
export const digestEventId = (personId: string, date: string) => `digest:${personId}:${date}`

/** A digest's deliveries carry their own type (DeliveryEventType), one a webhook cannot subscribe to. */
export const DIGEST_EVENT_TYPE: DeliveryEventType = 'digest.daily'

/** An open alert as a digest lists it. */
export const DigestAlert = z.object({
  id: z.string(),
  title: z.string(),
  severity: Severity,
  status: z.enum(['active', 'acknowledged']),
  deviceName: z.string(),
  site: z.string(),
  raisedAt: z.string(),
  mine: z.enum(['person', 'team']).nullable().describe('assigned to the reader, or to a team of theirs'),
})
export type DigestAlert = z.infer<typeof DigestAlert>

/** An open Awaab's Law case as a housing officer's digest lists it. */
export const DigestCase = z.object({
  id: z.string(),
  hazard: z.string(),
  category: HazardCategory,
  site: z.string().nullable(),
  state: z.string(),
  breached: z.boolean(),
  /** The soonest open deadline: which step, when due, and seconds left (negative once overdue). */
  next: z.object({ step: z.string(), due: z.string(), secondsLeft: z.number().nullable() }).nullable(),
})
export type DigestCase = z.infer<typeof DigestCase>

export const DigestContent = z.object({
  alerts: z.array(DigestAlert),
  /** Open alerts beyond those listed. */
  moreAlerts: z.number().int(),
  /** Null for people without a housing role: the section is left out, not shown empty. */
  cases: z.array(DigestCase).nullable(),
  moreCases: z.number().int(),
})
export type DigestContent = z.infer<typeof DigestContent>
