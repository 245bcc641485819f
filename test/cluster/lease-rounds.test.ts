import { connect, type KV, type NatsConnection } from 'nats'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { countLiveNodes, createPartitionLeases } from '../../cluster/partition-leases.ts'
import { type NatsCluster, startNatsCluster } from '../../scripts/cluster-engines.ts'

// Issue 15: each node's share of the partitions is ceil(partitions / live nodes), counted every
// lease round. The count must always come back: a round that waits for ever stops this node's
// renewals, and others take its partitions while it goes on reading them.
describe('lease rounds: counting live nodes, and a round that never ends', () => {
  let nats: NatsCluster
  let nc: NatsConnection
  let nodes: KV
  const TTL = 1_000

  beforeAll(async () => {
    nats = await startNatsCluster()
    nc = await connect({ servers: nats.url })
    nodes = await nc.jetstream().views.kv('sp_nodes', { ttl: TTL, replicas: 1, history: 1 })
  })
  afterAll(async () => {
    await nc?.close()
    await nats?.stop()
  })

  const count = async () => countLiveNodes(await nc.jetstreamManager({ timeout: 5_000 }), nodes)
  const beat = (name: string) => nodes.put(name, new TextEncoder().encode(String(Date.now())))
  /** A connection whose key-value bucket `bucket` answers `method` through `slowed` (the real bucket as its first argument). */
  const withSlowKv = (bucket: string, method: 'update' | 'create', slowed: (kv: KV, ...args: never[]) => Promise<number>) => {
    const slow = (kv: KV): KV =>
      new Proxy(kv, {
        get(target, prop) {
          if (prop === method) return (...args: never[]) => slowed(target, ...args)
          const v = Reflect.get(target, prop, target)
          return typeof v === 'function' ? v.bind(target) : v
        },
      })
    return {
      jetstream: () => ({
        views: {
          kv: async (name: string, o: object) =>
            name === bucket ? slow(await nc.jetstream().views.kv(name, o)) : nc.jetstream().views.kv(name, o),
        },
      }),
      jetstreamManager: (o: object) => nc.jetstreamManager(o),
    } as unknown as NatsConnection
  }

  it('counts heartbeats, not a node that left (its key deleted) nor one gone quiet (its key expired)', async () => {
    await Promise.all(['a', 'b', 'c'].map(beat))
    expect(await count()).toBe(3)
    await nodes.delete('c')
    expect(await count()).toBe(2)
    // b stops beating; a goes on.
    const until = Date.now() + TTL + 1_500
    while (Date.now() < until) {
      await beat('a')
      await new Promise((r) => setTimeout(r, 200))
    }
    expect(await count()).toBe(1)
  })

  it('always answers while heartbeats come and expire under it', async () => {
    let n = 0
    const churn = setInterval(() => void beat(`n${n++ % 20}`).catch(() => undefined), 15)
    try {
      const slowest = { ms: 0 }
      const until = Date.now() + 6_000
      while (Date.now() < until) {
        const from = Date.now()
        const live = await Promise.race([
          count(),
          new Promise<number>((_, no) => setTimeout(() => no(new Error('no answer in 3 s')), 3_000)),
        ])
        slowest.ms = Math.max(slowest.ms, Date.now() - from)
        expect(live).toBeGreaterThanOrEqual(0)
        expect(live).toBeLessThanOrEqual(22)
      }
      expect(slowest.ms).toBeLessThan(3_000)
    } finally {
      clearInterval(churn)
    }
  })

  it('stops reading a partition whose round is stuck once its lease has lapsed, and another node takes it', async () => {
    const log = pino({ level: 'silent' })
    const released: [number, boolean][] = []
    // Node "stuck": its round waits for ever inside the first partition it takes.
    const stuck = createPartitionLeases(
      { node: 'stuck', partitions: 1, replicas: 1, ttlMs: TTL, bucket: 'sp_stuck_leases' },
      {
        nc,
        log,
        acquired: () => new Promise(() => {}),
        released: async (p, drain) => {
          released.push([p, drain])
        },
      },
    )
    void stuck.start()
    await expect.poll(() => stuck.owned(), { timeout: 5_000 }).toEqual([0])
    // Not renewed for a time-to-live: the watch stops its readers at once (no drain), and it no longer claims it.
    await expect.poll(() => released, { timeout: TTL * 3 }).toEqual([[0, false]])
    expect(stuck.owned()).toEqual([])
    const other = createPartitionLeases(
      { node: 'other', partitions: 1, replicas: 1, ttlMs: TTL, bucket: 'sp_stuck_leases' },
      { nc, log, acquired: async () => {}, released: async () => {} },
    )
    await other.start()
    await expect.poll(() => other.owned(), { timeout: TTL * 3 }).toEqual([0])
    await other.close(Date.now() + 1_000)
    await stuck.close(Date.now() + 500)
  })

  it('lets a lease go at once when a renewal it had given up on comes back late, rather than hold it a time-to-live with nobody reading', async () => {
    const log = pino({ level: 'silent' })
    const ttl = 4_000
    const bucket = 'sp_late_leases'
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
    // One renewal slow both ways, as while a stream's leader is elected: it reaches the servers just
    // before the lease would lapse there, and its reply comes after this node's watch has given up.
    let armed = false
    let late: { revision: number; at: number } | null = null
    const viaSlowKv = withSlowKv(bucket, 'update', async (target, k: string, data: Uint8Array, version: number) => {
      if (!armed) return target.update(k, data, version)
      armed = false
      await sleep(ttl - ttl / 4 - 500)
      const revision = await target.update(k, data, version)
      await sleep(2_300)
      late = { revision, at: Date.now() }
      return revision
    })
    const released: [number, boolean][] = []
    let acquired = 0
    const node = createPartitionLeases(
      { node: 'late', partitions: 1, replicas: 1, ttlMs: ttl, bucket },
      {
        nc: viaSlowKv,
        log,
        acquired: async () => {
          acquired++
        },
        released: async (p, drain) => {
          released.push([p, drain])
        },
      },
    )
    const watch = await nc.jetstream().views.kv(bucket, { ttl, replicas: 1, history: 1 })
    try {
      await node.start()
      await expect.poll(() => node.owned(), { timeout: 5_000 }).toEqual([0])
      // The very next renewal is the slow one: the last that reached the servers was the lease's creation.
      armed = true
      await expect.poll(() => released, { timeout: ttl * 2 }).toEqual([[0, false]])
      await expect.poll(() => late, { timeout: ttl * 2 }).not.toBeNull()
      const { revision, at } = late!
      // Left alone, the key would stay at that revision until a time-to-live after it reached the servers,
      // about two seconds from now. Let go, it is deleted (and may already be taken afresh, a new revision).
      await expect
        .poll(async () => (await watch.get('p0').catch(() => null))?.revision ?? 0, { timeout: 800, interval: 50 })
        .not.toBe(revision)
      expect(Date.now() - at).toBeLessThan(1_500)
      // And read again: here by the same node, the only one, which takes the free key at its next round.
      await expect.poll(() => acquired, { timeout: ttl }).toBe(2)
    } finally {
      await node.close(Date.now() + 1_000)
    }
  }, 30_000)

  it('keeps every lease it takes in a round slowed by one request after another (a loaded host taking a dead node’s share)', async () => {
    const log = pino({ level: 'silent' })
    const ttl = 2_000
    const bucket = 'sp_slow_take_leases'
    // Each creation's reply comes 700 ms after it reached the servers: three in one round would end it
    // past a time-to-live after its start, with no renewal sent meanwhile.
    const viaSlowKv = withSlowKv(bucket, 'create', async (target, k: string, data: Uint8Array) => {
      const revision = await target.create(k, data)
      await new Promise((r) => setTimeout(r, 700))
      return revision
    })
    const released: [number, boolean][] = []
    const node = createPartitionLeases(
      { node: 'taker', partitions: 3, replicas: 1, ttlMs: ttl, bucket },
      {
        nc: viaSlowKv,
        log,
        acquired: async () => {},
        released: async (p, drain) => {
          released.push([p, drain])
        },
      },
    )
    try {
      void node.start()
      await expect.poll(() => node.owned(), { timeout: ttl * 4 }).toEqual([0, 1, 2])
      // Two more time-to-lives: none of the three was given up on the way, nor after.
      await new Promise((r) => setTimeout(r, ttl * 2))
      expect(node.owned()).toEqual([0, 1, 2])
      expect(released).toEqual([])
    } finally {
      await node.close(Date.now() + 1_000)
    }
  }, 30_000)
})
