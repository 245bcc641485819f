import { z } from 'zod'
import { SEGMENT, SiteId } from '../ids.ts'
import { CollectionSchedule } from './schedule.ts'

/** Round ids follow device ids (design D4): they appear in URLs and crews' sheets. */
export const RoundId = z.string().regex(SEGMENT, 'lower-case letters, digits and hyphens, 1-64 characters')

/** What an administrator supplies for a round; without an id one is made up. */
export const RoundInput = z.strictObject({
  id: RoundId.optional(),
  name: z.string().trim().min(1).max(120),
  site: SiteId.nullable().default(null),
  schedule: CollectionSchedule,
})
export type RoundInput = z.input<typeof RoundInput>

/** A round as stored and served: its collection schedule and the bins on it. */
export const Round = z.object({
  id: z.string(),
  name: z.string(),
  site: z.string().nullable(),
  schedule: CollectionSchedule,
  deviceIds: z.array(z.string()),
  createdAt: z.string(),
  createdBy: z.string(),
  updatedAt: z.string(),
  updatedBy: z.string(),
})
export type Round = z.infer<typeof Round>

export const CollectionSource = z.enum(['detected', 'manual'])
export type CollectionSource = z.infer<typeof CollectionSource>

/** A recorded emptying of a bin. Levels and flags are null when nobody measured them (a crew's mark). */
export const Collection = z.object({
  id: z.number().int(),
  deviceId: z.string(),
  at: z.string(),
  levelBefore: z.number().nullable(),
  levelAfter: z.number().nullable(),
  wasted: z.boolean().nullable().describe('emptied while under 30 % full'),
  tilted: z.boolean().nullable(),
  source: CollectionSource,
  actor: z.string(),
  recordedAt: z.string(),
})
export type Collection = z.infer<typeof Collection>

/** Where a bin's schedule comes from: its own, its round's, or none. */
export const ScheduleSource = z.enum(['bin', 'round'])
export type ScheduleSource = z.infer<typeof ScheduleSource>

/** Per round (null: bins on no round), over a period: what reports count, not what is alerted. */
export const RoundCollectionSummary = z.object({
  roundId: z.string().nullable(),
  name: z.string().nullable(),
  collections: z.number().int(),
  wasted: z.number().int().describe('collections of bins under 30 % full'),
})
export type RoundCollectionSummary = z.infer<typeof RoundCollectionSummary>
