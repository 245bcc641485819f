import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import type { LogRecord, ReadingRecord } from '#devices'
import { COLLECTION_READER, createCollectionRecorder, DETECTOR_ACTOR } from '../../collections/recorder.ts'
import type { Collection } from '../../devices/collections/index.ts'
import { createLog, type Log } from '../../log/log.ts'
import { createReader, type Reader } from '../../log/reader.ts'
import { migrateToLatest, openStore, type Store } from '../../store/db.ts'
import { createRoundStore, type RoundStore } from '../../store/round-store.ts'
import { waitFor } from '../helpers/service.ts'

const silent = pino({ level: 'silent' })
const T0 = Date.parse('2026-03-02T06:00:00.000Z')
const EVERY = 20 * 60_000
const iso = (ms: number) => new Date(ms).toISOString()

const cleanup: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'sp-recorder-'))
  cleanup.push(() => rmSync(d, { recursive: true, force: true }))
  return d
}

async function openDb(): Promise<Store> {
  const store = openStore({ dataDir: tempDir() })
  await migrateToLatest(store)
  cleanup.push(() => store.close())
  return store
}

function openLog(dir: string): Log {
  const log = createLog(
    { dir, fsync: false, segmentBytes: 64 * 1024 * 1024, commitDelayMs: 0, maxBytes: 1024 ** 3, minFreeBytes: 0 },
    silent,
  )
  log.start()
  cleanup.push(() => log.close())
  return log
}

const append = (log: Log, records: readonly LogRecord[]) =>
  Promise.all(records.map((r) => new Promise<void>((res, rej) => log.append(r, (e) => (e ? rej(e) : res())))))

/** A bin's readings every 20 minutes from `from`; [level, tilted] for a tilt. */
const bin = (
  deviceId: string,
  levels: readonly (number | [number, boolean])[],
  from = T0,
  over: Partial<ReadingRecord> = {},
): ReadingRecord[] =>
  levels.map((l, i) => {
    const [fillingLevel, tilted] = Array.isArray(l) ? l : [l, false]
    const ts = from + i * EVERY
    return {
      kind: 'reading',
      deviceId,
      type: 'bin',
      site: 'leeds',
      uprn: null,
      ts,
      receivedAt: ts,
      quality: 'good',
      readings: { fillingLevel, temperature: 11, batteryPct: 90, tilted },
      ...over,
    }
  })

function startRecorder(log: Log, store: RoundStore, onRecorded?: (c: readonly Collection[]) => void) {
  const recorder = createCollectionRecorder({ store, log: silent, onRecorded })
  const reader: Reader = createReader({
    name: COLLECTION_READER,
    log,
    handler: recorder.handler,
    logger: silent,
    kinds: ['reading'],
    maxRecords: 3,
  })
  reader.start()
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    await reader.close(Date.now() + 2_000)
  }
  cleanup.push(close)
  return { reader, close }
}

const caughtUp = (reader: Reader) => waitFor(() => reader.status().lagBytes === 0 && reader.status().error === null)
const summary = (cs: readonly Collection[]) => cs.map((c) => [c.deviceId, c.at, c.levelBefore, c.levelAfter, c.wasted, c.tilted, c.source])

describe('collection recorder (a reader of the log)', () => {
  it('records true collections of good bin readings only, and passes over glitches, suspect readings and other types', async () => {
    const db = await openDb()
    const rounds = createRoundStore(db.db)
    const log = openLog(tempDir())
    const told: Collection[] = []
    const { reader } = startRecorder(log, rounds, (c) => told.push(...c))
    await append(log, [
      ...bin('bin-1', [0.8, 0.82, 0.84, [0.02, true], 0.03, 0.04]),
      ...bin('bin-2', [0.6, 0.6, 0.01, 0.61, 0.62]),
      ...bin('bin-3', [0.2, 0.2, 0.2, 0.01, 0.01]),
      // Suspect readings never count: this "drop" is not evidence.
      ...bin('bin-4', [0.7, 0.7, 0.7], T0),
      ...bin('bin-4', [0.01, 0.01], T0 + 3 * EVERY, { quality: 'suspect' }),
      // Another type with a field of that name is not a bin.
      ...bin('boiler-1', [0.9, 0.9, 0.9, 0.01, 0.01], T0, { type: 'boiler' }),
    ])
    await caughtUp(reader)
    const got = await waitFor(async () => {
      const cs = await rounds.listCollections()
      return cs.length >= 2 && cs
    })
    expect(summary(got.reverse())).toEqual([
      ['bin-1', iso(T0 + 3 * EVERY), 0.82, 0.02, false, true, 'detected'],
      ['bin-3', iso(T0 + 3 * EVERY), 0.2, 0.01, true, false, 'detected'],
    ])
    expect(got.every((c) => c.actor === DETECTOR_ACTOR)).toBe(true)
    expect(summary(told).sort()).toEqual(summary(got).sort())
  })

  it('records collections of a bin whose sensor has no tilt (or temperature), with tilted unknown rather than false', async () => {
    const db = await openDb()
    const rounds = createRoundStore(db.db)
    const log = openLog(tempDir())
    const { reader } = startRecorder(log, rounds)
    // A Dragino LDDS75: fill and battery only. Its level alone shows the collection.
    const levelsOnly = bin('bin-ldds75', [0.7, 0.72, 0.74, 0.02, 0.03]).map((r) => ({
      ...r,
      readings: { fillingLevel: r.readings.fillingLevel!, batteryPct: 90 },
    }))
    await append(log, levelsOnly)
    await caughtUp(reader)
    const got = await waitFor(async () => {
      const cs = await rounds.listCollections()
      return cs.length >= 1 && cs
    })
    expect(summary(got)).toEqual([['bin-ldds75', iso(T0 + 3 * EVERY), 0.72, 0.02, false, null, 'detected']])
  })

  it('resumes a drop held across a restart and records nothing twice when the log is read again', async () => {
    const db = await openDb()
    const rounds = createRoundStore(db.db)
    const dir = tempDir()
    const log = openLog(dir)
    const first = startRecorder(log, rounds)
    // bin-1 is emptied before the restart; bin-2's drop comes just before it and is confirmed after it.
    await append(log, [...bin('bin-1', [0.9, 0.9, 0.9, 0.02, 0.02]), ...bin('bin-2', [0.7, 0.7, 0.7, 0.03])])
    await caughtUp(first.reader)
    await first.close()
    const saved = await rounds.loadDetection(COLLECTION_READER)
    expect(saved.checkpoint).not.toBeNull()
    expect(JSON.parse(saved.states.get('bin-2')!)).toMatchObject({ pending: { t: T0 + 3 * EVERY, level: 0.03 } })

    const second = startRecorder(log, rounds)
    await append(log, bin('bin-2', [0.04, 0.05], T0 + 4 * EVERY))
    await caughtUp(second.reader)
    const got = await waitFor(async () => {
      const cs = await rounds.listCollections()
      return cs.length >= 2 && cs
    })
    expect(summary(got.reverse())).toEqual([
      ['bin-1', iso(T0 + 3 * EVERY), 0.9, 0.02, false, false, 'detected'],
      ['bin-2', iso(T0 + 3 * EVERY), 0.7, 0.03, false, false, 'detected'],
    ])
    await second.close()

    // Checkpoint and states lost: the whole log is read again from scratch, and nothing is recorded twice.
    await db.db.deleteFrom('reader_checkpoints').execute()
    await db.db.deleteFrom('collection_detection').execute()
    const third = startRecorder(log, rounds)
    await caughtUp(third.reader)
    await third.close()
    // It did read it all again: the states are back.
    expect([...(await rounds.loadDetection(COLLECTION_READER)).states.keys()].sort()).toEqual(['bin-1', 'bin-2'])
    expect(await rounds.listCollections()).toHaveLength(2)
  })

  it('tries a batch again when its commit fails, and still records its collection', async () => {
    const db = await openDb()
    const rounds = createRoundStore(db.db)
    let failures = 0
    const flaky: RoundStore = {
      ...rounds,
      async recordCollections(entries, states, reader, checkpoint) {
        if (entries.length > 0 && failures === 0) {
          failures++
          throw new Error('database restarting')
        }
        return rounds.recordCollections(entries, states, reader, checkpoint)
      },
    }
    const log = openLog(tempDir())
    const { reader } = startRecorder(log, flaky)
    await append(log, bin('bin-1', [0.9, 0.9, 0.9, 0.02, 0.02, 0.03]))
    const got = await waitFor(async () => {
      const cs = await rounds.listCollections()
      return cs.length > 0 && cs
    })
    await caughtUp(reader)
    expect(failures).toBe(1)
    expect(reader.status().restarts).toBeGreaterThanOrEqual(1)
    expect(summary(got)).toEqual([['bin-1', iso(T0 + 3 * EVERY), 0.9, 0.02, false, false, 'detected']])
  })
})
