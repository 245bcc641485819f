import { z } from 'zod'

/**
 * What leaves the service (design D13), as Standard Webhooks payloads: `{type, timestamp, data}`
 * (standards.md §2). Type ids are dot-separated from [a-zA-Z0-9_]; they are stable API.
 */
export const EventType = z.enum([
  'alert.raised',
  'alert.reopened',
  'alert.acknowledged',
  'alert.escalated',
  'alert.resolved',
  'alert.cleared',
  'device.offline',
  'case.opened',
  'collection.recorded',
  'incident.raised',
])
export type EventType = z.infer<typeof EventType>

export const AlertEventData = z.object({
  alertId: z.string(),
  deviceId: z.string(),
  deviceType: z.string(),
  site: z.string(),
  ruleId: z.string(),
  title: z.string(),
  severity: z.string(),
  status: z.string().nullable().describe('the alert status after this change'),
  value: z.number().nullable(),
  at: z.string().describe('ISO 8601: when it happened (the reading time for the rule engine)'),
  actor: z.string().describe('"system" for the rule engine, else who acted'),
  note: z.string().nullable(),
})
export type AlertEventData = z.infer<typeof AlertEventData>

export const CaseEventData = z.object({
  caseId: z.string(),
  alertId: z.string().nullable(),
  deviceId: z.string().nullable(),
  site: z.string().nullable(),
  category: z.string(),
  hazard: z.string(),
  at: z.string(),
})
export type CaseEventData = z.infer<typeof CaseEventData>

export const CollectionEventData = z.object({
  deviceId: z.string(),
  site: z.string().nullable(),
  at: z.string(),
  levelBefore: z.number().nullable(),
  levelAfter: z.number().nullable(),
  source: z.string(),
})
export type CollectionEventData = z.infer<typeof CollectionEventData>

/** A Standard Webhooks payload. */
export const OutboundEvent = z.object({
  type: EventType,
  timestamp: z.string().describe('ISO 8601 time of the event'),
  data: z.union([AlertEventData, CaseEventData, CollectionEventData]),
})
export type OutboundEvent = z.infer<typeof OutboundEvent>

/**
 * An event as the outbox routes it: its stable id (the `webhook-id`, the same on every retry and
 * replay; never contains '.'), what subscriptions match on, and the payload.
 */
export interface RoutedEvent {
  id: string
  type: EventType
  /** The site it happened at, for area subscriptions; null matches only subscriptions without areas. */
  site: string | null
  /** The alert rule, for rule subscriptions; null matches only subscriptions without rules. */
  ruleId: string | null
  payload: OutboundEvent
}
