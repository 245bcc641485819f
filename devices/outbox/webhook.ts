import { z } from 'zod'
import { AreaId } from '../access/roles.ts'
import { EventType } from './events.ts'

/** Standard Webhooks symmetric secret: `whsec_` + base64 of 24–64 random bytes (standards.md §2). */
export const WEBHOOK_SECRET_PREFIX = 'whsec_'
export const WEBHOOK_SECRET_BYTES = 32

export const WebhookUrl = z
  .string()
  .max(2000)
  .pipe(z.url({ protocol: /^https?$/, error: 'an http or https URL' }))
  .refine((u) => !new URL(u).username && !new URL(u).password, 'no credentials in the URL: the signature authenticates the service')

export const NewWebhook = z.strictObject({
  url: WebhookUrl,
  description: z.string().trim().max(200).default(''),
  eventTypes: z.array(EventType).min(1).max(EventType.options.length),
  /** Only events of these alert rules; empty, every rule (and events without one). */
  ruleIds: z.array(z.string().min(1).max(64)).max(100).default([]),
  /** Only events at sites of these areas; empty, everywhere. */
  areas: z.array(AreaId).max(100).default([]),
})
export type NewWebhook = z.infer<typeof NewWebhook>

export const Webhook = z.object({
  id: z.string(),
  url: z.string(),
  description: z.string(),
  eventTypes: z.array(EventType),
  ruleIds: z.array(z.string()),
  areas: z.array(z.string()),
  createdAt: z.string(),
  createdBy: z.string(),
  rotatedAt: z.string().nullable(),
  previousSecretUntil: z.string().nullable().describe('while in the future, deliveries are signed with the old secret too'),
})
export type Webhook = z.infer<typeof Webhook>

/** The answer to creating a subscription or rotating its secret: the secret is shown this once. */
export const WebhookWithSecret = Webhook.extend({
  secret: z.string().describe('whsec_…: shown once; verify the webhook-signature header with it'),
})
export type WebhookWithSecret = z.infer<typeof WebhookWithSecret>

export const RotateWebhookSecret = z.strictObject({
  overlapHours: z
    .number()
    .min(0)
    .max(24 * 14)
    .optional()
    .describe('how long the old secret still signs (default WEBHOOK_ROTATION_OVERLAP_HOURS)'),
})
