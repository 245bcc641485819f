import { z } from 'zod'

/**
 * How a collection shows in a bin's readings: the level falls sharply to near empty and stays
 * there (domain.md §5.1 "Collection event": sharp level drop + container movement; §3.3 item 12).
 * All three numbers are ours. The drop is 0.1 rather than larger so that emptying a bin under
 * 30 % full (a wasted trip, issue 9) is still seen; "to below 0.15" and the confirming reading
 * keep settling and single low outliers out.
 */
export const CollectionDetection = z.object({
  /** The level must fall by at least this (parts per one) from the level before… */
  minDrop: z.number().positive().max(1).default(0.1),
  /** …to below this. */
  emptyBelow: z.number().positive().max(1).default(0.15),
  /** A collection of a bin under this full is a wasted trip (issue 9: "under 30 % full"). */
  wastedBelow: z.number().min(0).max(1).default(0.3),
})
export type CollectionDetection = z.infer<typeof CollectionDetection>

export const DEFAULT_COLLECTION_DETECTION: CollectionDetection = CollectionDetection.parse({})

/** Levels the "level before" is the median of: one high outlier just before a drop is no full bin. */
export const DETECTION_RECENT = 3

const Level = z.number().min(0).max(1)

/** Per bin; small and bounded, saved with the recorder's checkpoint. */
export const DetectionState = z.object({
  /** The latest accepted levels, oldest first (a dropped glitch is not among them). */
  recent: z.array(Level).max(DETECTION_RECENT),
  /**
   * Whether the latest accepted reading was tilted (a blip just before the drop counts); null when it
   * did not measure tilt (a sensor without one), so a collection is not reported as "no tilt" on no evidence.
   */
  tilted: z.boolean().nullable(),
  /** A drop waiting for the next reading to confirm it. */
  pending: z
    .object({
      t: z.number(),
      level: Level,
      before: Level,
      tilted: z.boolean().nullable(),
    })
    .nullable(),
  /** Newest reading time taken: older or equal ones are late and ignored. */
  last: z.number().nullable(),
})
export type DetectionState = z.infer<typeof DetectionState>

export const initialDetectionState = (): DetectionState => ({ recent: [], tilted: null, pending: null, last: null })

export interface BinLevelReading {
  /** Reading time, epoch ms. */
  t: number
  /** fillingLevel, parts per one. */
  level: number
  /** Absent: the sensor does not measure tilt. The level alone finds collections; the tilt only annotates them. */
  tilted?: boolean | undefined
}

export interface DetectedCollection {
  /** Time of the first low reading, epoch ms. */
  at: number
  levelBefore: number
  /** The level of that first low reading. */
  levelAfter: number
  wasted: boolean
  /** A tilt blip was seen just before, at or just after the drop (the bin was lifted); null: none of those readings measured tilt. */
  tilted: boolean | null
}

export interface DetectionStep {
  state: DetectionState
  collection: DetectedCollection | null
}

function median(xs: readonly number[]): number {
  // At most DETECTION_RECENT (3) levels, on every bin reading: no copy and sort for the usual sizes.
  if (xs.length === 1) return xs[0]!
  if (xs.length === 2) return (xs[0]! + xs[1]!) / 2
  if (xs.length === 3) {
    const [a, b, c] = xs as [number, number, number]
    return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c))
  }
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/** Tilt over readings around a drop: seen if any saw it, not seen if any measured it, else unknown. */
const either = (a: boolean | null, b: boolean | null): boolean | null =>
  a === true || b === true ? true : a === false || b === false ? false : null

const accept = (recent: readonly number[], level: number) => [...recent, level].slice(-DETECTION_RECENT)

/**
 * One bin reading in, at most one collection out. A drop is held until the next reading: still
 * low, it is a collection dated at the drop; back up, it was a lid-open glitch (one reading near
 * empty, domain.md §5.1) and is forgotten.
 */
export function stepCollection(config: CollectionDetection, state: DetectionState, reading: BinLevelReading): DetectionStep {
  const { t, level } = reading
  const tilted = typeof reading.tilted === 'boolean' ? reading.tilted : null
  if (!Number.isFinite(t) || !Number.isFinite(level) || level < 0 || level > 1) return { state, collection: null }
  if (state.last !== null && t <= state.last) return { state, collection: null }

  const pending = state.pending
  if (pending) {
    // Still well below the level before (nearer the low reading than the level before, or a full drop
    // below it): the bin was emptied. A lid-open glitch comes back to about where it was.
    if (level <= Math.max(pending.before - config.minDrop, (pending.before + pending.level) / 2)) {
      const collection: DetectedCollection = {
        at: pending.t,
        levelBefore: pending.before,
        levelAfter: pending.level,
        wasted: pending.before < config.wastedBelow,
        tilted: either(pending.tilted, tilted),
      }
      // The levels before the collection say nothing about the bin after it.
      return { state: { recent: [pending.level, level], tilted, pending: null, last: t }, collection }
    }
    return { state: { recent: accept(state.recent, level), tilted, pending: null, last: t }, collection: null }
  }

  if (state.recent.length > 0) {
    const before = median(state.recent)
    if (level < config.emptyBelow && level <= before - config.minDrop) {
      const held = { t, level, before, tilted: either(state.tilted, tilted) }
      return { state: { recent: state.recent, tilted: state.tilted, pending: held, last: t }, collection: null }
    }
  }
  return { state: { recent: accept(state.recent, level), tilted, pending: null, last: t }, collection: null }
}
