import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import type { LogRecord, ReadingRecord } from '#devices'
import { checkpointFile } from '../../log/checkpoint-file.ts'
import { createCursor } from '../../log/cursor.ts'
import { MAX_PAYLOAD_BYTES } from '../../log/frame.ts'
import { createLog, type Log, type LogConfig } from '../../log/log.ts'
import { createReader, type Reader } from '../../log/reader.ts'
import { type Damage, type Position, segmentName } from '../../log/segments.ts'
import { frameOffsets } from '../helpers/log-frames.ts'

const silent = pino({ level: 'silent' })

const dirs: string[] = []
const openLogs: Log[] = []
const openReaders: Reader[] = []
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'sp-log-test-'))
  dirs.push(d)
  return d
}

afterEach(async () => {
  for (const r of openReaders.splice(0)) await r.close()
  for (const l of openLogs.splice(0)) await l.close()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const config = (dir: string, over: Partial<LogConfig> = {}): LogConfig => ({
  dir,
  fsync: false,
  segmentBytes: 64 * 1024 * 1024,
  commitDelayMs: 0,
  maxBytes: 1024 * 1024 * 1024,
  minFreeBytes: 0,
  ...over,
})

/** A reading whose `ts` identifies it; `pad` makes it bigger. */
const reading = (n: number, pad = 0): ReadingRecord => ({
  kind: 'reading',
  deviceId: 'bin-1',
  type: 'bin',
  site: 'test',
  uprn: null,
  ts: n,
  receivedAt: n,
  quality: 'good',
  readings: pad ? { fillingLevel: 0.5, note: 'x'.repeat(pad) } : { fillingLevel: 0.5 },
})
const ids = (records: readonly LogRecord[]) => records.map((r) => (r.kind === 'reading' ? r.ts : -1))
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i)
const readings = (from: number, n: number, pad = 0) => range(from, n).map((i) => reading(i, pad))

const openLog = (dir: string, over: Partial<LogConfig> = {}) => {
  const log = createLog(config(dir, over), silent)
  log.start()
  openLogs.push(log)
  return log
}

const append = (log: Log, record: LogRecord) =>
  new Promise<void>((resolve, reject) => log.append(record, (err) => (err ? reject(err) : resolve())))

/** One run of the service's log: start (a fresh segment), append, close. Returns the segment written. */
async function run(dir: string, records: readonly LogRecord[], over: Partial<LogConfig> = {}): Promise<number> {
  const log = createLog(config(dir, over), silent)
  log.start()
  const segment = log.currentSegment
  await Promise.all(records.map((r) => append(log, r)))
  await log.close()
  return segment
}

function patch(file: string, edit: (buf: Buffer) => void) {
  const buf = readFileSync(file)
  edit(buf)
  writeFileSync(file, buf)
}

/** Reads everything after `from` with a cursor, as a reader would, `max` records at a time. */
function drain(log: Log, from: Position, max = 1000) {
  const damage: Damage[] = []
  const cursor = createCursor(log, (d) => damage.push(d))
  const records: LogRecord[] = []
  let pos = from
  for (let guard = 0; guard < 10_000; guard++) {
    const batch = cursor.read(pos, max)
    if (!batch) break
    records.push(...batch.records)
    pos = batch.end
  }
  // Reading the same range again reports nothing new: damage is reported once per cursor.
  let again = from
  for (let b = cursor.read(again, max); b; b = cursor.read(again, max)) again = b.end
  cursor.close()
  return { records, damage, end: pos }
}

/** Starts a reader with an in-memory handler; `checkpoint` is what its load() returns. */
function startReader(log: Log, checkpoint: Position | null, name = 'test', maxRecords = 3) {
  const records: LogRecord[] = []
  const damage: Damage[] = []
  let saved: Position | null = null
  const reader = createReader({
    name,
    log,
    logger: silent,
    maxRecords,
    handler: {
      load: async () => checkpoint,
      handle: async (batch) => {
        records.push(...batch.records)
        saved = batch.end
      },
    },
    onDamage: (d) => damage.push(d),
  })
  reader.start()
  openReaders.push(reader)
  return {
    reader,
    records,
    damage,
    get saved() {
      return saved
    },
  }
}

async function until(cond: () => boolean, timeoutMs = 3_000) {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('torn tail', () => {
  it.each([
    ['half of a real frame', (good: Buffer) => good.subarray(0, Math.floor(good.length / 2))],
    ['garbage without a magic', () => Buffer.from('0123456789abcdef0123')],
    ['a complete header whose payload never arrived', (good: Buffer) => good.subarray(0, 10)],
  ])('%s at the end of the last segment is cut off at start, reported, and no record is lost', async (_name, tail) => {
    const dir = tempDir()
    const seg = await run(dir, readings(1, 5))
    const file = join(dir, segmentName(seg))
    const size = statSync(file).size
    const payload = Buffer.from(`r${JSON.stringify(reading(99))}`)
    const header = Buffer.alloc(10)
    header.write('SP', 0, 'latin1')
    header.writeUInt32LE(payload.length, 2)
    header.writeUInt32LE(crc32(payload), 6)
    const garbage = tail(Buffer.concat([header, payload]))
    appendFileSync(file, garbage)

    const log = openLog(dir)
    expect(statSync(file).size).toBe(size)
    expect(log.damage).toEqual([{ segment: seg, offset: size, reason: `torn tail of ${garbage.length} bytes` }])
    expect(log.committedEnd(seg)).toBe(size)

    const r = startReader(log, null)
    await append(log, reading(6))
    await until(() => r.records.length >= 6)
    expect(ids(r.records)).toEqual(range(1, 6))
    // The torn bytes were never acknowledged: readers have nothing to skip.
    expect(r.damage).toEqual([])
    expect(r.reader.status().damage).toEqual([])
  })

  it('a restart after a clean close finds no damage and truncates nothing', async () => {
    const dir = tempDir()
    const seg = await run(dir, readings(1, 3))
    const size = statSync(join(dir, segmentName(seg))).size
    const log = openLog(dir)
    expect(log.damage).toEqual([])
    expect(statSync(join(dir, segmentName(seg))).size).toBe(size)
    expect(log.currentSegment).toBe(seg + 1)
    expect(ids(drain(log, { segment: 0, offset: 0 }).records)).toEqual(range(1, 3))
  })
})

describe('a damaged record in the middle of a segment', () => {
  type Edit = (buf: Buffer, frame: { offset: number; payloadBytes: number }) => void
  const damages: [string, Edit, string][] = [
    [
      'a flipped payload byte',
      (b, f) => {
        b[f.offset + 10 + Math.floor(f.payloadBytes / 2)]! ^= 0x20
      },
      'bad checksum',
    ],
    [
      'a NUL byte over a payload byte',
      (b, f) => {
        const at = f.offset + 10 + Math.floor(f.payloadBytes / 2)
        expect(b[at]).not.toBe(0)
        b[at] = 0
      },
      'bad checksum',
    ],
    [
      'a flipped checksum byte',
      (b, f) => {
        b[f.offset + 7]! ^= 0x01
      },
      'bad checksum',
    ],
    [
      'a flipped magic byte',
      (b, f) => {
        b[f.offset + 1] = 0x51
      },
      'bad magic',
    ],
    ['a zero length', (b, f) => b.writeUInt32LE(0, f.offset + 2), 'bad length'],
    ['a length above the maximum', (b, f) => b.writeUInt32LE(MAX_PAYLOAD_BYTES + 1, f.offset + 2), 'bad length'],
    ['a length one byte short', (b, f) => b.writeUInt32LE(f.payloadBytes - 1, f.offset + 2), 'bad checksum'],
    ['a length one byte long', (b, f) => b.writeUInt32LE(f.payloadBytes + 1, f.offset + 2), 'bad checksum'],
  ]

  it.each(damages)(
    '%s: that one record is skipped, reported once with segment and offset, every later record delivered',
    async (_n, edit, reason) => {
      const dir = tempDir()
      const seg = await run(dir, readings(1, 7))
      const file = join(dir, segmentName(seg))
      const frames = frameOffsets(file)
      expect(frames).toHaveLength(7)
      const bad = frames[3]!
      patch(file, (b) => edit(b, bad))

      const log = openLog(dir)
      // The start scan sees it too, without cutting anything off: it is not at the tail.
      expect(log.damage).toEqual([{ segment: seg, offset: bad.offset, reason }])
      expect(statSync(file).size).toBe(frames.at(-1)!.offset + 10 + frames.at(-1)!.payloadBytes)

      const { records, damage } = drain(log, { segment: 0, offset: 0 }, 2)
      expect(ids(records)).toEqual([1, 2, 3, 5, 6, 7])
      expect(damage).toEqual([{ segment: seg, offset: bad.offset, reason }])

      // Through the reader runner, with records appended after the restart: reported once, nothing else lost.
      const r = startReader(log, null, 'test', 2)
      for (const n of range(8, 4)) await append(log, reading(n))
      await until(() => r.records.length >= 10)
      expect(ids(r.records)).toEqual([1, 2, 3, 5, 6, 7, 8, 9, 10, 11])
      expect(r.damage).toEqual([{ segment: seg, offset: bad.offset, reason }])
      const status = r.reader.status()
      expect(status.damage).toHaveLength(1)
      expect(status.damage[0]).toMatchObject({ segment: seg, offset: bad.offset, reason })
      expect(status.position).toEqual({ segment: log.currentSegment, offset: log.committedEnd(log.currentSegment) })
    },
  )

  it('a length running past the end of the segment: the record is skipped and the rest resynced', async () => {
    const dir = tempDir()
    const seg = await run(dir, readings(1, 5))
    const file = join(dir, segmentName(seg))
    const bad = frameOffsets(file)[1]!
    patch(file, (b) => b.writeUInt32LE(MAX_PAYLOAD_BYTES, bad.offset + 2))

    const log = openLog(dir)
    expect(log.damage).toHaveLength(1)
    expect(log.damage[0]).toMatchObject({ segment: seg, offset: bad.offset })
    const { records, damage } = drain(log, { segment: 0, offset: 0 })
    expect(ids(records)).toEqual([1, 3, 4, 5])
    expect(damage).toHaveLength(1)
    expect(damage[0]).toMatchObject({ segment: seg, offset: bad.offset })
  })

  it('two damaged records: each reported once, the good ones between and after delivered', async () => {
    const dir = tempDir()
    const seg = await run(dir, readings(1, 8))
    const file = join(dir, segmentName(seg))
    const frames = frameOffsets(file)
    patch(file, (b) => {
      b[frames[2]!.offset + 15]! ^= 0xff
      b[frames[5]!.offset + 15] = 0
    })
    const log = openLog(dir)
    const { records, damage } = drain(log, { segment: 0, offset: 0 })
    expect(ids(records)).toEqual([1, 2, 4, 5, 7, 8])
    expect(damage).toEqual([
      { segment: seg, offset: frames[2]!.offset, reason: 'bad checksum' },
      { segment: seg, offset: frames[5]!.offset, reason: 'bad checksum' },
    ])
  })

  it('a valid frame whose payload is not JSON is skipped and reported', async () => {
    const dir = tempDir()
    const seg = await run(dir, readings(1, 3))
    const file = join(dir, segmentName(seg))
    const f = frameOffsets(file)[1]!
    patch(file, (b) => {
      b[f.offset + 11] = 0x7e // '{' (after the kind byte) -> '~', and the checksum recomputed: a well-formed frame of garbage
      b.writeUInt32LE(crc32(b.subarray(f.offset + 10, f.offset + 10 + f.payloadBytes)), f.offset + 6)
    })
    const log = openLog(dir)
    expect(log.damage).toEqual([])
    const { records, damage } = drain(log, { segment: 0, offset: 0 })
    expect(ids(records)).toEqual([1, 3])
    expect(damage).toEqual([{ segment: seg, offset: f.offset, reason: 'record is not JSON' }])
  })

  it.each([
    ['a damaged frame straddling the edge of the 4 MiB read chunk, and one past it', false],
    ['damage early in the first chunk, then at the chunk edge and past it', true],
  ])('%s: each skipped and reported once', async (_name, withEarly) => {
    const dir = tempDir()
    // ~1.1 KiB records: about 5.5 MiB in one segment.
    const seg = await run(dir, readings(1, 5000, 1024))
    const file = join(dir, segmentName(seg))
    const frames = frameOffsets(file)
    expect(frames).toHaveLength(5000)
    const chunk = 4 * 1024 * 1024
    const straddle = frames.findIndex((f) => f.offset < chunk && f.offset + 10 + f.payloadBytes > chunk)
    expect(straddle).toBeGreaterThan(0)
    const bad = withEarly ? [100, straddle, 4900] : [straddle, 4900]
    patch(file, (b) => {
      for (const i of bad) b[frames[i]!.offset + 10 + 50]! ^= 0x04
    })
    const log = openLog(dir)
    const { records, damage } = drain(log, { segment: 0, offset: 0 }, 10_000)
    // Records are numbered from 1: frame i holds record i + 1.
    expect(ids(records)).toEqual(range(1, 5000).filter((n) => !bad.includes(n - 1)))
    expect(damage).toEqual(bad.map((i) => ({ segment: seg, offset: frames[i]!.offset, reason: 'bad checksum' })))
  })
})

describe('a checkpoint beyond the data', () => {
  it('an offset past the end of a sealed segment is reported; reading resumes with the next segment', async () => {
    const dir = tempDir()
    const seg = await run(dir, readings(1, 5))
    const log = openLog(dir)
    const held = log.committedEnd(seg)
    const cp = { segment: seg, offset: 10_000_000_000 }
    const r = startReader(log, cp)
    for (const n of range(100, 6)) await append(log, reading(n))
    await until(() => r.records.length >= 6)
    expect(ids(r.records)).toEqual(range(100, 6))
    expect(r.damage).toEqual([{ segment: seg, offset: cp.offset, reason: `checkpoint beyond the data: segment holds ${held} bytes` }])
    expect(r.reader.status().damage).toHaveLength(1)
    // Later appends keep flowing, with no repeated report.
    await append(log, reading(106))
    await until(() => r.records.length >= 7)
    expect(ids(r.records).at(-1)).toBe(106)
    expect(r.damage).toHaveLength(1)
    expect(r.saved).toEqual({ segment: log.currentSegment, offset: log.committedEnd(log.currentSegment) })
  })

  it('an offset past the end of the live segment is reported; the live segment is read from its start', async () => {
    const dir = tempDir()
    await run(dir, readings(1, 2))
    const log = openLog(dir)
    await append(log, reading(50))
    const cp = { segment: log.currentSegment, offset: 1_000_000 }
    const r = startReader(log, cp)
    for (const n of range(51, 4)) await append(log, reading(n))
    await until(() => r.records.length >= 5)
    expect(ids(r.records)).toEqual(range(50, 5))
    expect(r.damage).toHaveLength(1)
    expect(r.damage[0]).toMatchObject({ segment: cp.segment, offset: cp.offset })
    expect(r.damage[0]!.reason).toMatch(/^checkpoint beyond the data/)
  })

  it('a segment number beyond any is reported; every record appended after the restart is delivered', async () => {
    const dir = tempDir()
    await run(dir, readings(1, 5))
    await run(dir, readings(6, 5))
    const log = openLog(dir)
    const cp = { segment: 999, offset: 0 }
    const r = startReader(log, cp)
    for (const n of range(100, 6)) await append(log, reading(n))
    await until(() => ids(r.records).includes(105))
    expect(ids(r.records)).toEqual(expect.arrayContaining(range(100, 6)))
    // In order and none twice.
    const after = ids(r.records).filter((n) => n >= 100)
    expect(after).toEqual(range(100, 6))
    expect(r.damage).toEqual([{ segment: 999, offset: 0, reason: 'checkpoint beyond the data: no such segment; reading from the oldest' }])
    expect(r.reader.status().damage).toHaveLength(1)
  })

  it('the cursor alone: a position past the data yields the next data, reporting it once', async () => {
    const dir = tempDir()
    const seg = await run(dir, readings(1, 3))
    await run(dir, readings(4, 3))
    const log = openLog(dir)
    const { records, damage } = drain(log, { segment: seg, offset: 123_456 })
    expect(ids(records)).toEqual([4, 5, 6])
    expect(damage).toEqual([
      { segment: seg, offset: 123_456, reason: `checkpoint beyond the data: segment holds ${log.committedEnd(seg)} bytes` },
    ])
  })
})

describe('closing and deleting', () => {
  it('append before start and after close fails instead of acknowledging', async () => {
    const dir = tempDir()
    const log = createLog(config(dir), silent)
    await expect(append(log, reading(1))).rejects.toThrow(/LOG_CLOSED/)
    log.start()
    await append(log, reading(2))
    await log.close()
    await expect(append(log, reading(3))).rejects.toThrow(/LOG_CLOSED/)
    // Nothing after close reached the file.
    const frames = frameOffsets(join(dir, segmentName(1)))
    expect(frames).toHaveLength(1)
  })

  it('close flushes what was appended before it, and every such append is acknowledged', async () => {
    const dir = tempDir()
    const log = createLog(config(dir, { commitDelayMs: 50 }), silent)
    log.start()
    const acks = range(1, 20).map((n) => append(log, reading(n)))
    await log.close()
    await Promise.all(acks)
    const reopened = openLog(dir)
    expect(ids(drain(reopened, { segment: 0, offset: 0 }).records)).toEqual(range(1, 20))
  })

  it('a segment is deleted only once every registered reader has passed it', async () => {
    const dir = tempDir()
    await run(dir, [reading(1)])
    await run(dir, [reading(2)])
    const log = openLog(dir)
    expect(log.currentSegment).toBe(3)
    const exists = (id: number) => existsSync(join(dir, segmentName(id)))

    log.hold('a')
    log.hold('b')
    log.advance('a', { segment: 3, offset: 0 })
    expect([exists(1), exists(2)]).toEqual([true, true]) // b has not reported yet
    log.hold('a') // holding again does not move a back
    log.advance('b', { segment: 2, offset: 0 })
    expect([exists(1), exists(2), exists(3)]).toEqual([false, true, true])
    expect(log.segmentIds()).toEqual([2, 3])
    log.advance('b', { segment: 3, offset: 0 })
    expect([exists(2), exists(3)]).toEqual([false, true])
    // The live segment is never deleted, even when every reader is past it.
    log.advance('a', { segment: 4, offset: 0 })
    log.advance('b', { segment: 4, offset: 0 })
    expect(exists(3)).toBe(true)
  })

  it('a reader that has not loaded its checkpoint yet blocks deletion; forgetting a reader releases it', async () => {
    const dir = tempDir()
    await run(dir, [reading(1)])
    await run(dir, [reading(2)])
    await run(dir, [reading(3)])
    const log = openLog(dir)
    expect(log.currentSegment).toBe(4)
    const exists = (id: number) => existsSync(join(dir, segmentName(id)))

    let release: (p: Position) => void = () => {}
    const seen: LogRecord[] = []
    const slow = createReader({
      name: 'slow',
      log,
      logger: silent,
      maxRecords: 10,
      handler: {
        load: () => new Promise<Position>((r) => (release = r)),
        handle: async (b) => {
          seen.push(...b.records)
        },
      },
    })
    openReaders.push(slow)
    slow.start()
    log.advance('fast', { segment: 2, offset: 0 })
    await new Promise((r) => setTimeout(r, 20))
    expect([exists(1), exists(2), exists(3)]).toEqual([true, true, true]) // slow has not reported
    release({ segment: 2, offset: 0 })
    await until(() => slow.status().position?.segment === 4)
    expect(ids(seen)).toEqual([2, 3])
    expect([exists(1), exists(2), exists(3)]).toEqual([false, true, true]) // fast is still at 2

    // Created, and so declared to the log, but never started: it blocks deletion until forgotten.
    createReader({
      name: 'never-started',
      log,
      logger: silent,
      maxRecords: 10,
      handler: { load: async () => null, handle: async () => {} },
    })
    log.advance('fast', { segment: 4, offset: 0 })
    expect([exists(2), exists(3)]).toEqual([true, true])
    log.forget('never-started')
    log.advance('fast', { segment: 4, offset: 0 })
    expect([exists(2), exists(3), exists(4)]).toEqual([false, false, true])
    expect(log.stats().segments).toBe(1)
  })
})

describe('the checkpoint file', () => {
  it('round-trips a position and ignores an unreadable or impossible one', async () => {
    const dir = tempDir()
    const cp = checkpointFile(dir, 'influxdb')
    expect(await cp.load()).toBeNull()
    await cp.save({ segment: 3, offset: 1234 })
    expect(await cp.load()).toEqual({ segment: 3, offset: 1234 })
    expect(JSON.parse(readFileSync(join(dir, 'influxdb.checkpoint'), 'utf8'))).toEqual({ segment: 3, offset: 1234 })
    for (const bad of ['{"segment":3', '{"segment":-1,"offset":0}', '{"segment":1.5,"offset":0}', '{"segment":1}', 'null']) {
      writeFileSync(join(dir, 'influxdb.checkpoint'), bad)
      expect(await cp.load()).toBeNull()
    }
  })
})

describe('record kinds', () => {
  const quarantined = (n: number): LogRecord => ({
    kind: 'quarantine',
    receivedAt: n,
    deviceId: 'bin-1',
    topic: 't',
    code: 'PAYLOAD_NOT_JSON',
    reason: `bad ${n}`,
    issues: [],
    payload: '',
  })

  it('a reader gets only the kinds it handles, in order, and steps over the rest', async () => {
    const dir = tempDir()
    await run(dir, [reading(1), quarantined(2), reading(3), quarantined(4), reading(5)])
    const log = openLog(dir)
    const only = (kinds: LogRecord['kind'][]) => {
      const cursor = createCursor(log, () => {}, kinds)
      const out: LogRecord[] = []
      let pos: Position = { segment: 0, offset: 0 }
      for (let b = cursor.read(pos, 100); b; b = cursor.read(pos, 100)) {
        out.push(...b.records)
        pos = b.end
      }
      cursor.close()
      return { out, pos }
    }
    const q = only(['quarantine'])
    expect(q.out.map((r) => (r.kind === 'quarantine' ? r.receivedAt : -1))).toEqual([2, 4])
    const r = only(['reading'])
    expect(ids(r.out)).toEqual([1, 3, 5])
    // Both end at the same place: skipping a kind is still reading past it.
    expect(q.pos).toEqual(r.pos)
  })

  it('an unknown kind byte in a well-formed frame is reported and stepped over', async () => {
    const dir = tempDir()
    const seg = await run(dir, readings(1, 3))
    const file = join(dir, segmentName(seg))
    const f = frameOffsets(file)[1]!
    patch(file, (b) => {
      b[f.offset + 10] = 0x7a // 'z': no such kind; checksum recomputed so only the kind is wrong
      b.writeUInt32LE(crc32(b.subarray(f.offset + 10, f.offset + 10 + f.payloadBytes)), f.offset + 6)
    })
    const log = openLog(dir)
    const { records, damage } = drain(log, { segment: 0, offset: 0 })
    expect(ids(records)).toEqual([1, 3])
    expect(damage).toEqual([{ segment: seg, offset: f.offset, reason: 'unknown record kind 0x7a' }])
  })
})
