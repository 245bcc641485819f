import { z } from 'zod'
import { Issue } from './reading.ts'

/**
 * What the durable log holds (design D12). The log itself knows frames, not
 * meanings: these schemas are the one definition its writers and readers share.
 */
export const ReadingValue = z.union([z.number(), z.boolean(), z.string()])

/** A reading accepted by ingest: the PUBACK that followed its append means it cannot be lost. */
export const ReadingRecord = z.object({
  kind: z.literal('reading'),
  deviceId: z.string(),
  type: z.string(),
  site: z.string(),
  uprn: z.string().nullable(),
  /** Observation time, epoch ms (device time, or arrival time when the device sent none). */
  ts: z.number().int(),
  /** Arrival time at the broker, epoch ms. */
  receivedAt: z.number().int(),
  /** `suspect`: a field lies outside its plausible band; stored and flagged, never used for alerts. */
  quality: z.enum(['good', 'suspect']),
  readings: z.record(z.string(), ReadingValue),
})
export type ReadingRecord = z.infer<typeof ReadingRecord>

/** A refused message, kept as durably as a reading so that quarantine cannot lose what it was told. */
export const QuarantineRecord = z.object({
  kind: z.literal('quarantine'),
  receivedAt: z.number().int(),
  deviceId: z.string().nullable(),
  topic: z.string(),
  code: z.string(),
  reason: z.string(),
  issues: z.array(Issue),
  /** The raw payload, base64, cut at QUARANTINE_PAYLOAD_MAX bytes. */
  payload: z.string(),
})
export type QuarantineRecord = z.infer<typeof QuarantineRecord>

export const LogRecord = z.discriminatedUnion('kind', [ReadingRecord, QuarantineRecord])
export type LogRecord = z.infer<typeof LogRecord>

/** A quarantined payload is kept up to this size: enough to diagnose, never enough to fill the disk. */
export const QUARANTINE_PAYLOAD_MAX = 64 * 1024
