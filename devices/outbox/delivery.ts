import { z } from 'zod'
import { EventType } from './events.ts'

/** How a delivery leaves: webhooks, Open311, Web Push and email. */
export const OutboxChannel = z.enum(['webhook', 'open311', 'webpush', 'email'])
export type OutboxChannel = z.infer<typeof OutboxChannel>

/**
 * What a delivery carries: an event webhooks may subscribe to, or a daily digest (made by a
 * schedule for one person, never by an event, so not one of EventType's names: that list is the webhooks' API).
 */
export const DeliveryEventType = z.enum([...EventType.options, 'digest.daily'])
export type DeliveryEventType = z.infer<typeof DeliveryEventType>

export const DeliveryState = z.enum(['pending', 'delivered', 'dead'])
export type DeliveryState = z.infer<typeof DeliveryState>

/** One event for one target: at least once, in order per target, retried with backoff, then dead. */
export const Delivery = z.object({
  id: z.number().int(),
  eventId: z.string().describe('the webhook-id: the same on every attempt and on a replay'),
  eventType: DeliveryEventType,
  channel: OutboxChannel,
  target: z
    .string()
    .describe('the subscription id for webhooks and Web Push; "open311" for the configured GeoReport endpoint; the person id for email'),
  payload: z.string().describe('the exact body sent'),
  state: DeliveryState,
  attempts: z.number().int(),
  createdAt: z.string(),
  firstAttemptAt: z.string().nullable(),
  lastAttemptAt: z.string().nullable(),
  nextAttemptAt: z.string().nullable().describe('while pending'),
  lastError: z.string().nullable(),
  deliveredAt: z.string().nullable(),
})
export type Delivery = z.infer<typeof Delivery>

/** What a channel adapter says of one attempt (design D13). */
export type SendOutcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'retry'; error: string; afterMs?: number | undefined }
  | { kind: 'dead'; error: string }
  /** Nothing needed sending after all (the alert was acknowledged first, the person turned it off): done, with why. */
  | { kind: 'skipped'; reason: string }

export const DeliveryFilter = z.object({
  state: DeliveryState.optional(),
  target: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before: z.coerce.number().int().min(1).optional().describe('deliveries with a smaller id: the last id of the page before'),
})
export type DeliveryFilter = z.infer<typeof DeliveryFilter>
