import type { Logger } from 'pino'
import type { ReadingRecord } from '#devices'
import {
  type Collection,
  type CollectionDetection,
  DEFAULT_COLLECTION_DETECTION,
  DetectionState,
  initialDetectionState,
  stepCollection,
} from '../devices/collections/index.ts'
import type { Batch } from '../log/cursor.ts'
import type { ReaderHandler } from '../log/reader.ts'
import type { Position } from '../log/segments.ts'
import type { NewCollection, RoundStore } from '../store/round-store.ts'

export const COLLECTION_READER = 'collections'

/** Who records what the sensors show, in the collections' actor column. */
export const DETECTOR_ACTOR = 'system:collection-detector'

/** What the recorder needs of the store (the round store has it). */
export type CollectionRecorderStore = Pick<RoundStore, 'loadDetection' | 'recordCollections'>

/** A batch with no collection need not be its own transaction: state and checkpoint are saved at most this often. */
const SAVE_EVERY_MS = 1_000

/**
 * The log reader that records bin collections from their readings. Collections, the detection
 * state they changed and the checkpoint commit in one transaction, so a crash replays from the old
 * checkpoint against the old state and records nothing twice. Only good bin readings count: a
 * suspect one is stored and flagged, never evidence.
 */
export function createCollectionRecorder(deps: {
  store: CollectionRecorderStore
  log?: Logger | undefined
  detection?: CollectionDetection | undefined
  /** Told of each collection once it is committed (dashboards, the bin-not-collected rule). */
  onRecorded?: ((collections: readonly Collection[]) => void) | undefined
  now?: () => number
  /** Its checkpoint's name (one per partition in cluster mode). */
  reader?: string
  /** Cluster mode: the epoch this node reads the partition with. */
  fence?: number
}): { handler: ReaderHandler } {
  const now = deps.now ?? Date.now
  const READER = deps.reader ?? COLLECTION_READER
  const detection = deps.detection ?? DEFAULT_COLLECTION_DETECTION
  // `states` holds every batch handed over; `dirty` the bins changed since the last commit.
  const states = new Map<string, DetectionState>()
  const dirty = new Set<string>()
  let committed: Position | null = null
  let savedAt = 0
  let lastEnd: Position | null = null

  const commit = async (entries: readonly NewCollection[], working: Map<string, DetectionState>, end: Position) => {
    const changed = new Set([...dirty, ...working.keys()])
    const rows = [...changed].map((id) => [id, JSON.stringify(working.get(id) ?? states.get(id))] as const)
    const recorded = await deps.store.recordCollections(entries, rows, READER, end, deps.fence)
    for (const [id, s] of working) states.set(id, s)
    dirty.clear()
    committed = end
    savedAt = now()
    if (recorded.length > 0)
      deps.log?.info({ collections: recorded.map((c) => ({ deviceId: c.deviceId, at: c.at })) }, 'collections recorded')
    return recorded
  }

  const handler: ReaderHandler = {
    async load() {
      states.clear()
      dirty.clear()
      const saved = await deps.store.loadDetection(READER)
      for (const [id, json] of saved.states) {
        const parsed = DetectionState.safeParse(safeJson(json))
        if (parsed.success) states.set(id, parsed.data)
        else deps.log?.warn({ deviceId: id }, 'collection detection state unreadable; starting that bin afresh')
      }
      committed = saved.checkpoint
      return committed
    },
    async handle(batch: Batch) {
      // Stepped on copies: a batch whose commit fails is read again, and must meet the state it first met.
      const working = new Map<string, DetectionState>()
      const entries: NewCollection[] = []
      for (const r of batch.records) {
        if (r.kind !== 'reading' || r.type !== 'bin' || r.quality !== 'good') continue
        const reading = levelOf(r)
        if (!reading) continue
        const before = working.get(r.deviceId) ?? states.get(r.deviceId) ?? initialDetectionState()
        const step = stepCollection(detection, before, reading)
        if (step.state === before) continue
        working.set(r.deviceId, step.state)
        if (step.collection) {
          const { at, levelBefore, levelAfter, wasted, tilted } = step.collection
          entries.push({ deviceId: r.deviceId, at, levelBefore, levelAfter, wasted, tilted, source: 'detected', actor: DETECTOR_ACTOR })
        }
      }
      lastEnd = batch.end
      if (entries.length === 0 && now() - savedAt < SAVE_EVERY_MS) {
        for (const [id, s] of working) {
          states.set(id, s)
          dirty.add(id)
        }
        return committed ?? { segment: 0, offset: 0 }
      }
      const recorded = await commit(entries, working, batch.end)
      if (recorded.length > 0) deps.onRecorded?.(recorded)
      return batch.end
    },
    async close() {
      if (dirty.size === 0 || !lastEnd) return
      await commit([], new Map(), lastEnd)
    },
  }
  return { handler }
}

function levelOf(r: ReadingRecord): { t: number; level: number; tilted: boolean | undefined } | null {
  const level = r.readings.fillingLevel
  if (typeof level !== 'number') return null
  // Absent on a sensor without tilt: the collection is then recorded with tilted null (not measured), not false.
  const tilted = r.readings.tilted
  return { t: r.ts, level, tilted: typeof tilted === 'boolean' ? tilted : undefined }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}
