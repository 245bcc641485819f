import { z } from 'zod'
import { Issue } from './reading.ts'

/** A quarantined message as the API serves it. */
export const QuarantineEntry = z.object({
  id: z.number().int(),
  receivedAt: z.string(),
  deviceId: z.string().nullable(),
  deviceType: z.string().nullable(),
  topic: z.string(),
  code: z.string(),
  reason: z.string(),
  issues: z.array(Issue),
  payload: z.string().describe('raw payload, base64'),
})
export type QuarantineEntry = z.infer<typeof QuarantineEntry>

export const QuarantineFilter = z.object({
  deviceId: z.string().optional(),
  type: z.string().optional().describe('device type'),
  code: z.string().optional().describe('reason code, e.g. PAYLOAD_INVALID'),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
})
export type QuarantineFilter = z.infer<typeof QuarantineFilter>

export const QuarantineSummary = z.object({
  deviceId: z.string().nullable(),
  code: z.string(),
  count: z.number().int(),
  lastAt: z.string(),
})
export type QuarantineSummary = z.infer<typeof QuarantineSummary>
