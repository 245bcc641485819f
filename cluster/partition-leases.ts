import { type JetStreamManager, type KV, type NatsConnection, StringCodec } from 'nats'
import type { Logger } from 'pino'
import { settledBy } from '../log/deadline.ts'
import { untilReady } from '../log/stream-log.ts'

export interface LeaseConfig {
  node: string
  partitions: number
  replicas: number
  /** A lease not renewed for this long expires (the bucket's time-to-live) and another node takes it. */
  ttlMs: number
  /** The key-value bucket of these leases (the partitions', or a part run on one node at a time). */
  bucket?: string
}

export interface LeaseDeps {
  nc: NatsConnection
  log: Logger
  /** Starts this node's readers of a partition it now owns; `epoch` is the lease's revision when taken. */
  acquired(partition: number, epoch: number): Promise<void>
  /** Stops them: `drain` reads on until caught up (a clean hand-over); otherwise at once (the lease is lost). */
  released(partition: number, drain: boolean): Promise<void>
}

const sc = StringCodec()
const key = (p: number) => `p${p}`
const NODES = 'sp_nodes'

/**
 * How many nodes have a heartbeat in the bucket: its stream lists the keys that hold a message, and
 * each key's last entry says whether it is a heartbeat or a departed node's deletion. Every step is
 * a request with a timeout. Not `kv.keys()`, the one step of a round that had none: its listing ends
 * only at a message with nothing pending after it, which a heartbeat expiring mid-listing can take
 * away. CI saw a node whose rounds had stopped go on reading three partitions two others had taken.
 * Also cheaper: keys() made an ordered consumer on the servers every round.
 */
export async function countLiveNodes(jsm: JetStreamManager, nodes: KV): Promise<number> {
  const prefix = `$KV.${NODES}.`
  const info = await jsm.streams.info(`KV_${NODES}`, { subjects_filter: `${prefix}>` })
  const entries = await Promise.all(Object.keys(info.state.subjects ?? {}).map((s) => nodes.get(s.slice(prefix.length))))
  return entries.filter((e) => e?.operation === 'PUT').length
}

/**
 * Who reads which partition of the log (issue 15): one lease per partition in a NATS key-value
 * bucket whose entries expire after `ttlMs`, held by the node that created the key and renewed by
 * compare-and-set on its revision. Nodes announce themselves in a second bucket; each aims at its
 * fair share, ceil(partitions / live nodes), so a dead node's partitions are taken within about
 * one time-to-live and a new node is handed some by the others. No election or consensus of our
 * own: the stream's replicated bucket decides who created a key first.
 */
export function createPartitionLeases(config: LeaseConfig, deps: LeaseDeps) {
  let leases: KV | null = null
  let nodes: KV | null = null
  let jsm: JetStreamManager | null = null
  // `releasing`: being handed on (read to the end) while its lease is still renewed, so nobody takes it early.
  const owned = new Map<number, { revision: number; renewedAt: number; releasing: Promise<void> | null }>()
  let timer: NodeJS.Timeout | null = null
  let watchdog: NodeJS.Timeout | null = null
  let ticking: Promise<void> = Promise.resolve()
  let closed = false
  let live = 1
  const tickMs = Math.max(250, Math.floor(config.ttlMs / 4))
  // Nodes start their search at different partitions, so that they rarely race for the same key.
  let first = 0
  for (const ch of config.node) first = (first * 31 + ch.charCodeAt(0)) % config.partitions
  const active = () => [...owned.entries()].filter(([, h]) => !h.releasing)
  /** Deletes a lease's key if it is still at this revision (ours): the next owner need not wait for it to expire. */
  const letGo = (p: number, revision: number) => leases?.delete(key(p), { previousSeq: revision }).catch(() => undefined)

  /** Hands a partition on in the background: the tick goes on renewing every other lease meanwhile. */
  const handOn = (p: number) => {
    const held = owned.get(p)
    if (!held || held.releasing) return held?.releasing ?? Promise.resolve()
    held.releasing = deps
      .released(p, true)
      .catch((e: Error) => deps.log.warn({ partition: p, err: e.message }, 'partition hand-over failed'))
      .then(async () => {
        owned.delete(p)
        await letGo(p, held.revision)
        deps.log.info({ partition: p, node: config.node }, 'partition handed on')
      })
    return held.releasing
  }
  const lose = (p: number, why: string) => {
    const held = owned.get(p)
    owned.delete(p)
    // Still ours on the servers if only our side counted it lapsed (a renewal's reply late): the next owner
    // need not wait out the time-to-live. Taken by another node, the revision differs and nothing is deleted.
    if (held) void letGo(p, held.revision)
    deps.log.warn({ partition: p, err: why }, 'partition lease lost; its readers stop at once')
    void deps.released(p, false).catch((e: Error) => deps.log.warn({ partition: p, err: e.message }, 'partition release failed'))
  }

  const tick = async () => {
    if (!leases || !nodes || !jsm || closed) return
    const now = Date.now()
    const heartbeat = nodes.put(config.node, sc.encode(String(now))).catch(() => undefined)
    // Every renewal at once and first: on a loaded host a round of requests one after another took
    // longer than the watch allows, and leases were given up that were still ours.
    await Promise.all(
      [...owned].map(async ([p, held]) => {
        try {
          const revision = await leases!.update(key(p), sc.encode(config.node), held.revision)
          if (owned.get(p) !== held) {
            // Given up while this renewal was on its way (its reply came after the watch's time-to-live):
            // its readers have stopped, and the key just renewed would keep every other node off the
            // partition for one more time-to-live with nobody reading it. Let it go now.
            await letGo(p, revision)
            return
          }
          held.revision = revision
          held.renewedAt = now
        } catch (e) {
          // Given up meanwhile (the watch): already stopped, and this node may have taken it again since, with new readers.
          if (owned.get(p) !== held) return
          // Taken by another node, or not renewed for a whole time-to-live: either way it may be read elsewhere now.
          if (/wrong last sequence/i.test((e as Error).message) || now - held.renewedAt >= config.ttlMs) lose(p, (e as Error).message)
        }
      }),
    )
    await heartbeat
    try {
      live = Math.max(1, await countLiveNodes(jsm, nodes))
    } catch {
      return
    }
    const share = Math.ceil(config.partitions / live)
    const mine = active()
    if (mine.length > share) {
      // Another node joined: hand one partition on per tick, read to the end first.
      void handOn(mine.at(-1)![0])
      return
    }
    let took = false
    for (let i = 0, n = mine.length; i < config.partitions && n < share; i++) {
      // Renewals come only at a round's start: a round that went on taking partitions one request after
      // another (a loaded host, a dead node's share to take) let the leases it already held lapse, and
      // the ones it had just taken with them. The next round takes the rest; each round takes one at least.
      if (took && Date.now() - now >= tickMs) break
      const p = (first + i) % config.partitions
      if (owned.has(p)) continue
      // Not the round's start: a lease taken late in a slow round was counted lapsed moments after it was taken.
      const sentAt = Date.now()
      try {
        const revision = await leases.create(key(p), sc.encode(config.node))
        owned.set(p, { revision, renewedAt: sentAt, releasing: null })
        n++
        took = true
        deps.log.info({ partition: p, node: config.node }, 'partition lease taken')
        await deps.acquired(p, revision)
      } catch {
        // Held by another node.
      }
    }
  }

  /**
   * Apart from the rounds, so that a round stuck on a request that never answers cannot leave this
   * node reading partitions whose leases have lapsed and been taken: a lease not renewed for a whole
   * time-to-live may belong to another node now, so its readers stop (CI saw a node go on reading
   * three partitions for 40 s after two others had taken them).
   */
  const checkLapsed = () => {
    const now = Date.now()
    for (const [p, held] of owned) if (now - held.renewedAt >= config.ttlMs) lose(p, `not renewed for ${now - held.renewedAt} ms`)
  }

  const loop = () => {
    ticking = tick()
      .catch((e: Error) => deps.log.warn({ err: e.message }, 'lease round failed'))
      .finally(() => {
        if (!closed) timer = setTimeout(loop, tickMs)
      })
  }

  return {
    async start(deadline = Date.now() + 30_000) {
      const js = deps.nc.jetstream()
      const opts = { ttl: config.ttlMs, replicas: config.replicas, history: 1 }
      leases = await untilReady('lease bucket', deadline, () => js.views.kv(config.bucket ?? 'sp_partition_leases', opts))
      nodes = await untilReady('node bucket', deadline, () => js.views.kv(NODES, opts))
      jsm = await deps.nc.jetstreamManager({ timeout: 5_000 })
      closed = false
      loop()
      watchdog = setInterval(checkLapsed, tickMs)
      await ticking
    },
    /** The partitions this node reads now. */
    owned: () =>
      active()
        .map(([p]) => p)
        .sort((a, b) => a - b),
    get liveNodes() {
      return live
    },
    /** Hands every partition on (each read to the end, until `deadline`), then leaves. */
    async close(deadline = Date.now() + 5_000) {
      closed = true
      if (timer) clearTimeout(timer)
      if (watchdog) clearInterval(watchdog)
      // A round stuck on a request does not hold up the hand-over past the deadline.
      await settledBy(ticking, deadline)
      // Gone from the live nodes first, so the others raise their share and take each partition as it is handed on.
      await nodes?.delete(config.node).catch(() => undefined)
      // Renewed while they drain, as the loop has stopped.
      const renew = setInterval(() => {
        for (const [p, held] of owned)
          leases
            ?.update(key(p), sc.encode(config.node), held.revision)
            .then((r) => {
              held.revision = r
            })
            .catch(() => undefined)
      }, tickMs)
      await settledBy(Promise.all([...owned.keys()].map(handOn)), deadline + 1_000)
      clearInterval(renew)
    },
  }
}
export type PartitionLeases = ReturnType<typeof createPartitionLeases>
