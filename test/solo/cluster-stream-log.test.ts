import { connect, type NatsConnection } from 'nats'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LogRecord, ReadingRecord } from '#devices'
import { createPartitionLeases } from '../../cluster/partition-leases.ts'
import { createPartitionReaders } from '../../cluster/partition-readers.ts'
import { partitionOf } from '../../log/partition.ts'
import type { ReaderHandler } from '../../log/reader.ts'
import type { Position } from '../../log/segments.ts'
import { createStreamLog, type StreamLog, subjectOf } from '../../log/stream-log.ts'
import { createStreamReader } from '../../log/stream-reader.ts'
import { type NatsCluster, startNatsCluster } from '../../scripts/cluster-engines.ts'

const quiet = pino({ level: 'silent' })
let cluster: NatsCluster
const logs: StreamLog[] = []

beforeAll(async () => {
  cluster = await startNatsCluster()
}, 60_000)
afterAll(async () => {
  for (const l of logs) await l.close(Date.now() + 1_000).catch(() => undefined)
  await cluster?.stop()
})

const reading = (deviceId: string, n: number): ReadingRecord => ({
  kind: 'reading',
  deviceId,
  type: 'bin',
  site: 'kingston',
  uprn: null,
  ts: 1_700_000_000_000 + n * 1000,
  receivedAt: Date.now(),
  quality: 'good',
  readings: { fillingLevel: (n % 100) / 100 },
})

async function openLog(stream: string, partitions = 4, publishTimeoutMs = 1_000) {
  const l = createStreamLog(
    {
      servers: cluster.url.split(','),
      node: 'test',
      stream,
      partitions,
      replicas: 3,
      publishTimeoutMs,
      maxBytes: 256 * 1024 * 1024,
      duplicateWindowMs: 120_000,
      startTimeoutMs: 30_000,
    },
    quiet,
  )
  await l.start()
  logs.push(l)
  return l
}

const append = (l: StreamLog, r: LogRecord) => new Promise<Error | null>((resolve) => l.append(r, resolve))

/** A handler that keeps what it is given and its checkpoint in memory, as a store would. */
function memoryHandler(seen: LogRecord[], checkpoints: Map<string, Position>, name: string): ReaderHandler {
  return {
    load: async () => checkpoints.get(name) ?? null,
    async handle(batch) {
      seen.push(...batch.records)
      checkpoints.set(name, batch.end)
      return batch.end
    },
  }
}

const until = async (what: string, ok: () => boolean, ms = 20_000) => {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('the replicated log (NATS JetStream, three replicas)', () => {
  it('keeps each device in one partition and hands its records to that partition’s reader in order, once', async () => {
    const l = await openLog('ORDER', 4)
    const devices = Array.from({ length: 20 }, (_, i) => `bin-${i}`)
    const acks = []
    for (let n = 0; n < 50; n++) for (const d of devices) acks.push(append(l, reading(d, n)))
    expect((await Promise.all(acks)).every((e) => e === null)).toBe(true)
    // The same reading resent (a lost PUBACK) is stored once.
    expect(await append(l, reading('bin-0', 49))).toBeNull()

    const nc = await connect({ servers: cluster.url.split(',') })
    const seen: LogRecord[][] = [[], [], [], []]
    const cps = new Map<string, Position>()
    const readers = [0, 1, 2, 3].map((p) =>
      createStreamReader({
        name: `test@p${p}`,
        partition: p,
        epoch: 1,
        stream: 'ORDER',
        nc,
        handler: memoryHandler(seen[p]!, cps, `test@p${p}`),
        logger: quiet,
        maxRecords: 64,
      }),
    )
    for (const r of readers) r.start()
    await until('every record read', () => seen.flat().length >= 1000)
    await new Promise((r) => setTimeout(r, 300))
    for (const r of readers) await r.close(Date.now() + 2_000)
    expect(seen.flat()).toHaveLength(1000)
    for (let p = 0; p < 4; p++) {
      for (const r of seen[p]!) expect(partitionOf(r.deviceId, 4)).toBe(p)
    }
    for (const d of devices) {
      const ts = seen.flat().flatMap((r) => (r.deviceId === d && r.kind === 'reading' ? [r.ts] : []))
      expect(ts).toEqual([...ts].sort((a, b) => a - b))
      expect(new Set(ts).size).toBe(50)
    }

    // A reader started again resumes after its checkpoint: nothing is handed over twice.
    const again: LogRecord[] = []
    const r0 = createStreamReader({
      name: 'test@p0',
      partition: 0,
      epoch: 2,
      stream: 'ORDER',
      nc,
      handler: memoryHandler(again, cps, 'test@p0'),
      logger: quiet,
      maxRecords: 64,
    })
    r0.start()
    expect(await append(l, reading(devices.find((d) => partitionOf(d, 4) === 0)!, 1_000))).toBeNull()
    await until('the new record', () => again.length >= 1)
    await new Promise((r) => setTimeout(r, 500))
    await r0.close(Date.now() + 1_000)
    expect(again).toHaveLength(1)
    await nc.close()
  }, 60_000)

  it('lets no former owner that is still running hide records from the partition’s next owner', async () => {
    const l = await openLog('ZOMBIE', 1)
    for (let n = 0; n < 100; n++) expect(await append(l, reading('bin-z', n))).toBeNull()
    const nc = await connect({ servers: cluster.url.split(',') })
    // The former owner: lost its lease but has not noticed; it goes on fetching, slowly.
    const zombieSeen: LogRecord[] = []
    const zombie = createStreamReader({
      name: 'zombie@p0',
      partition: 0,
      epoch: 1,
      stream: 'ZOMBIE',
      nc,
      handler: {
        load: async () => null,
        async handle(batch) {
          zombieSeen.push(...batch.records)
          await new Promise((r) => setTimeout(r, 100))
          return batch.end
        },
      },
      logger: quiet,
      maxRecords: 10,
    })
    zombie.start()
    await until('the former owner reading', () => zombieSeen.length >= 20)
    const seen: LogRecord[] = []
    const owner = createStreamReader({
      name: 'zombie@p0',
      partition: 0,
      epoch: 2,
      stream: 'ZOMBIE',
      nc,
      handler: memoryHandler(seen, new Map(), 'zombie@p0'),
      logger: quiet,
      maxRecords: 10,
    })
    owner.start()
    for (let n = 100; n < 200; n++) expect(await append(l, reading('bin-z', n))).toBeNull()
    await until('the new owner has every record', () => seen.length >= 200)
    await zombie.abandon()
    await owner.close(Date.now() + 1_000)
    expect(seen.map((r) => (r.kind === 'reading' ? r.ts : 0))).toEqual(Array.from({ length: 200 }, (_, n) => reading('bin-z', n).ts))
    await nc.close()
  }, 60_000)

  it('reads records delivered to a pull request nobody listens to any more, even when no record follows them', async () => {
    const l = await openLog('ASTRAY', 1)
    for (let n = 0; n < 10; n++) expect(await append(l, reading('bin-s', n))).toBeNull()
    const nc = await connect({ servers: cluster.url.split(',') })
    const seen: LogRecord[] = []
    // The first batch is held in hand while a stale pull request (a fetch the client already gave up on) waits first in line.
    let release!: () => void
    const held = new Promise<void>((r) => (release = r))
    let inHand = false
    const inner = memoryHandler(seen, new Map(), 'astray@p0')
    const reader = createStreamReader({
      name: 'astray@p0',
      partition: 0,
      epoch: 1,
      stream: 'ASTRAY',
      nc,
      handler: {
        load: inner.load,
        async handle(batch) {
          inHand = true
          await held
          return inner.handle(batch)
        },
      },
      logger: quiet,
      maxRecords: 100,
    })
    reader.start()
    await until('the first batch in hand', () => inHand)
    // The server delivers the next records to this request's inbox, where they are dropped, as a fetch that
    // expired as they were on their way drops them: they went astray.
    const inbox = `_INBOX.astray.${Date.now()}`
    const stray = nc.subscribe(inbox, { callback: () => undefined })
    nc.publish('$JS.API.CONSUMER.MSG.NEXT.ASTRAY.astray_p0_e1', JSON.stringify({ batch: 5, expires: 30_000_000_000 }), { reply: inbox })
    await nc.flush()
    for (let n = 10; n < 15; n++) expect(await append(l, reading('bin-s', n))).toBeNull()
    const jsm = await nc.jetstreamManager()
    const end = Date.now() + 10_000
    while ((await jsm.consumers.info('ASTRAY', 'astray_p0_e1')).delivered.consumer_seq < 15 && Date.now() < end)
      await new Promise((r) => setTimeout(r, 50))
    expect((await jsm.consumers.info('ASTRAY', 'astray_p0_e1')).delivered.consumer_seq).toBe(15)
    stray.unsubscribe()
    release()
    // Nothing follows the lost five, so no jump in the delivery sequence shows them; they are read all the same.
    await until('all fifteen records', () => seen.length >= 15, 15_000)
    await reader.close(Date.now() + 1_000)
    expect(seen.map((r) => (r.kind === 'reading' ? r.ts : 0))).toEqual(Array.from({ length: 15 }, (_, n) => reading('bin-s', n).ts))
    await nc.close()
  }, 60_000)

  it('loses no acknowledged record when a server is killed, refuses while no quorum is left, and resumes by itself', async () => {
    const l = await openLog('FAULTS', 2, 1_000)
    const acked: string[] = []
    let refused = 0
    let n = 0
    let stop = false
    const load = (async () => {
      while (!stop) {
        const id = `m-${n % 30}`
        const r = reading(id, n++)
        const e = await append(l, r)
        if (e === null) acked.push(`${id}|${r.ts}`)
        else refused++
      }
    })()
    await until('some records', () => acked.length > 200)
    await cluster.nodes[0]!.kill('SIGKILL')
    const afterOne = acked.length
    await until('appends go on with two of three servers', () => acked.length > afterOne + 200)

    await cluster.nodes[1]!.kill('SIGKILL')
    await until('a refusal', () => l.refusal !== null)
    expect(l.refusal!.code).toBe('NO_QUORUM')
    const during = acked.length
    await new Promise((r) => setTimeout(r, 1_500))
    expect(acked.length - during).toBeLessThanOrEqual(1)

    await cluster.nodes[0]!.restart()
    await cluster.nodes[1]!.restart()
    await until('appends accepted again', () => acked.length > during + 100, 30_000)
    expect(l.refusal).toBeNull()
    stop = true
    await load
    expect(refused).toBeGreaterThan(0)

    const nc = await connect({ servers: cluster.url.split(',') })
    const seen: LogRecord[] = []
    const cps = new Map<string, Position>()
    const readers = [0, 1].map((p) =>
      createStreamReader({
        name: `faults@p${p}`,
        partition: p,
        epoch: 1,
        stream: 'FAULTS',
        nc,
        handler: memoryHandler(seen, cps, `faults@p${p}`),
        logger: quiet,
        maxRecords: 500,
      }),
    )
    for (const r of readers) r.start()
    const keys = () => new Set(seen.map((r) => (r.kind === 'reading' ? `${r.deviceId}|${r.ts}` : '')))
    try {
      await until('every acknowledged record read', () => acked.every((k) => keys().has(k)), 30_000)
    } catch (e) {
      // Lost, or waiting in the stream behind a reader that stopped? Say which, and where each reader is.
      const missing = acked.filter((k) => !keys().has(k))
      const jsm = await nc.jetstreamManager()
      const stored = await Promise.all(
        missing.slice(0, 5).map(async (k) => {
          const [id, ts] = k.split('|')
          const inStream = await jsm.streams
            .getMessage('FAULTS', { last_by_subj: subjectOf('FAULTS', partitionOf(id!, 2)) })
            .then((m) => m.seq)
            .catch(() => null)
          return `${id}@${ts} (partition ${partitionOf(id!, 2)}, its subject's last seq ${inStream})`
        }),
      )
      const status = readers.map((r) => JSON.stringify(r.status()))
      throw new Error(
        `${(e as Error).message}: ${missing.length} of ${acked.length} not read, e.g. ${stored.join('; ')}; readers ${status.join(' ')}`,
      )
    }
    for (const r of readers) await r.close(Date.now() + 1_000)
    // Nothing acknowledged is missing, and nothing is stored twice.
    expect(acked.filter((k) => !keys().has(k))).toEqual([])
    expect(seen.length).toBe(keys().size)
    await nc.close()
  }, 120_000)
})

describe('the readers of a node’s partitions', () => {
  it('purge from the stream what every reader has made durable, and keep what one still needs', async () => {
    const l = await openLog('PURGE', 2)
    for (let n = 0; n < 100; n++) expect(await append(l, reading(`bin-${n % 10}`, n))).toBeNull()
    const nc = await connect({ servers: cluster.url.split(',') })
    const seen: LogRecord[] = []
    const cps = new Map<string, Position>()
    // One reader kind keeps everything durable at once; the other has made nothing of partition 1 durable yet.
    let held = 0
    const holdsBack: ReaderHandler = {
      load: async () => null,
      handle: async (b) => {
        held += b.records.length
        return { segment: b.end.segment, offset: b.end.segment === 1 ? 1 : b.end.offset }
      },
    }
    const running: { name: string }[] = []
    const readers = createPartitionReaders({
      nc: () => nc,
      stream: 'PURGE',
      node: 'purger',
      partitions: 2,
      replicas: 3,
      leaseTtlMs: 2_000,
      running: running as never,
      log: quiet,
      readersOf: (p) => [
        { name: `keeps@p${p}`, handler: memoryHandler(seen, cps, `keeps@p${p}`), kinds: ['reading'], maxRecords: 50 },
        { name: `holds@p${p}`, handler: holdsBack, kinds: ['reading'], maxRecords: 50 },
      ],
    })
    await readers.start()
    try {
      // Both kinds of reader have handed back every record (the second kind lags the first at times).
      await until('both partitions taken and read', () => readers.owned().length === 2 && seen.length >= 100 && held >= 100)
      const jsm = await nc.jetstreamManager()
      const count = async (p: number) =>
        (await jsm.streams.info('PURGE', { subjects_filter: `purge.p${p}` })).state.subjects?.[`purge.p${p}`] ?? 0
      const before = [await count(0), await count(1)]
      expect(before[0]! + before[1]!).toBe(100)
      await readers.purge()
      // Partition 0: every reader is past every record. Partition 1: one reader still needs them all.
      expect(await count(0)).toBe(0)
      expect(await count(1)).toBe(before[1])
    } finally {
      // Closed whatever happened above: a reader left running keeps its node's heartbeat alive for the next test.
      await readers.close(Date.now() + 2_000)
      await nc.close()
    }
  }, 60_000)
})

describe('partition leases (a NATS key-value bucket with a time-to-live)', () => {
  it('shares the partitions between live nodes and moves a dead node’s within seconds', async () => {
    const conns: NatsConnection[] = []
    const owners = new Map<number, string>()
    const node = async (name: string) => {
      const nc = await connect({ servers: cluster.url.split(',') })
      conns.push(nc)
      const leases = createPartitionLeases(
        { node: name, partitions: 6, replicas: 3, ttlMs: 2_000 },
        {
          nc,
          log: quiet,
          acquired: async (p) => {
            owners.set(p, name)
          },
          released: async (p) => {
            if (owners.get(p) === name) owners.delete(p)
          },
        },
      )
      await leases.start()
      return { nc, leases }
    }
    const a = await node('node-a')
    await until('node a owns every partition', () => a.leases.owned().length === 6, 10_000)
    const b = await node('node-b')
    await until('the partitions are shared', () => a.leases.owned().length === 3 && b.leases.owned().length === 3, 15_000)
    expect(new Set([...a.leases.owned(), ...b.leases.owned()]).size).toBe(6)

    // Node a dies: no renewal, no release.
    await a.nc.close()
    const died = Date.now()
    await until('node b owns every partition', () => b.leases.owned().length === 6, 15_000)
    expect(Date.now() - died).toBeLessThan(10_000)
    await b.leases.close(Date.now() + 1_000)
    for (const c of conns) await c.close().catch(() => undefined)
  }, 60_000)
})
