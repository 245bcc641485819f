import { z } from 'zod'
import { Severity } from './rule.ts'

export const AlertStatus = z.enum(['active', 'acknowledged', 'cleared'])
export type AlertStatus = z.infer<typeof AlertStatus>

/** An alert as stored, served by the API and pushed over Socket.IO. */
export const Alert = z.object({
  id: z.string(),
  deviceId: z.string(),
  deviceType: z.string(),
  site: z.string(),
  ruleId: z.string(),
  title: z.string(),
  severity: Severity,
  status: AlertStatus,
  value: z.number(),
  raisedAt: z.string().describe('reading time that raised the alert, ISO 8601'),
  acknowledgedAt: z.string().nullable(),
  acknowledgedBy: z.string().nullable(),
  clearedAt: z.string().nullable(),
})
export type Alert = z.infer<typeof Alert>

/** One transition or human action on an alert, as kept in its history (oldest first). */
export const AlertHistoryEntry = z.object({
  alertId: z.string(),
  deviceId: z.string(),
  ruleId: z.string(),
  action: z.enum(['raised', 'cleared', 'acknowledged', 'escalated']),
  at: z.string().describe('ISO 8601'),
  actor: z.string().describe('"system" for rule transitions, else who acted'),
  value: z.number().nullable(),
})
export type AlertHistoryEntry = z.infer<typeof AlertHistoryEntry>
