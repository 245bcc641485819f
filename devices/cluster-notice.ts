import { z } from 'zod'

/**
 * What one node of a cluster tells the others after a write they keep a copy of (issue 15): rule
 * overrides and collection schedules are held in memory by every node's alert engines, a crew's
 * collection mark must reach the engine of the bin's partition, wherever that runs, and open data's
 * versions on every node must change when any node's writer lands readings. Sent after the
 * write committed; a receiver reloads from the shared store or applies the mark.
 */
/** Readings of one type written to InfluxDB, over [first, last] (reading time, epoch ms). */
export const WrittenSpan = z.object({ type: z.enum(['bin', 'meter']), first: z.number().int(), last: z.number().int() })
export type WrittenSpan = z.infer<typeof WrittenSpan>

export const ClusterNotice = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('overrides'), from: z.string() }),
  z.object({ kind: z.literal('schedules'), from: z.string() }),
  z.object({
    kind: z.literal('collection'),
    from: z.string(),
    deviceId: z.string().max(200),
    at: z.number().int(),
    /** A crew's mark (the missed-collection check hears of it), or an emptying the readings showed (open data only). */
    by: z.enum(['crew', 'readings']),
  }),
  /** A partition's InfluxDB writer landed readings: open data's answers over those days change (their versions). */
  z.object({ kind: z.literal('written'), from: z.string(), spans: z.array(WrittenSpan).max(2) }),
])
export type ClusterNotice = z.infer<typeof ClusterNotice>
