import type { NatsConnection } from 'nats'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import type { ClusterNotice } from '#devices'
import { createChangeNotices } from '../../cluster/change-notices.ts'
import { coalesced } from '../../service/cluster-wiring.ts'

// Cluster mode (issue 15): what one node tells the others; the real NATS path is in test/solo/cluster-three-nodes.test.ts.
const silent = pino({ level: 'silent' })
const T = Date.UTC(2026, 11, 2, 8)

/** A connection that hands what is published to the one subscriber, and whose status the test drives. */
function fakeConnection() {
  let callback: ((err: Error | null, msg: { data: Uint8Array; string(): string }) => void) | null = null
  const statuses: { type: string }[] = []
  let wake: (() => void) | null = null
  const published: string[] = []
  const deliver = (text: string | Uint8Array) => {
    const data = typeof text === 'string' ? new TextEncoder().encode(text) : text
    callback?.(null, { data, string: () => new TextDecoder().decode(data) })
  }
  const nc = {
    subscribe: (_subject: string, o: { callback: typeof callback }) => {
      callback = o.callback
      return {
        unsubscribe: () => {
          callback = null
        },
      }
    },
    publish: (_subject: string, data: string) => {
      published.push(data)
      deliver(data)
    },
    status: () => ({
      async *[Symbol.asyncIterator]() {
        for (;;) {
          while (statuses.length) yield statuses.shift()!
          await new Promise<void>((r) => {
            wake = r
          })
        }
      },
    }),
  }
  return {
    nc: nc as unknown as NatsConnection,
    deliver,
    published,
    status(type: string) {
      statuses.push({ type })
      wake?.()
    },
  }
}

function setup(node = 'node-b') {
  const conn = fakeConnection()
  const heard: ClusterNotice[] = []
  let resyncs = 0
  let reconnects = 0
  const notices = createChangeNotices({
    nc: () => conn.nc,
    node,
    subject: 'sp_log_notices',
    log: silent,
    onNotice: (n) => heard.push(n),
    resync: async () => void resyncs++,
    resyncEveryMs: 60_000,
    onReconnect: () => void reconnects++,
    now: () => T,
  })
  notices.start()
  return { conn, notices, heard, resyncs: () => resyncs, reconnects: () => reconnects }
}

describe('change notices between the nodes of a cluster', () => {
  it("hands on the other nodes' notices, not its own, and ignores what is not a notice", async () => {
    const s = setup()
    s.conn.deliver(JSON.stringify({ kind: 'overrides', from: 'node-a' }))
    s.conn.deliver(JSON.stringify({ kind: 'collection', from: 'node-c', deviceId: 'bin-1', at: T - 1_000, by: 'crew' }))
    // Its own (published by this node), one of no known kind, one that is not JSON, and one far too large.
    s.notices.publish({ kind: 'schedules' })
    s.conn.deliver(JSON.stringify({ kind: 'drop-tables', from: 'node-a' }))
    s.conn.deliver('{"kind":')
    s.conn.deliver(JSON.stringify({ kind: 'overrides', from: 'node-a', pad: 'x'.repeat(5_000) }))
    expect(s.heard).toEqual([
      { kind: 'overrides', from: 'node-a' },
      { kind: 'collection', from: 'node-c', deviceId: 'bin-1', at: T - 1_000, by: 'crew' },
    ])
    await s.notices.close()
  })

  it('believes no collection mark from the future (it would hide every real mark until then)', async () => {
    const s = setup()
    s.conn.deliver(JSON.stringify({ kind: 'collection', from: 'node-a', deviceId: 'bin-1', at: T + 86_400_000, by: 'crew' }))
    s.conn.deliver(JSON.stringify({ kind: 'collection', from: 'node-a', deviceId: 'bin-1', at: T + 60_000, by: 'crew' }))
    expect(s.heard.map((n) => (n.kind === 'collection' ? n.at : null))).toEqual([T + 60_000])
    await s.notices.close()
  })

  it('reloads when the connection comes back (notices sent meanwhile are lost), and publishes nothing once closed', async () => {
    const s = setup()
    s.conn.status('disconnect')
    s.conn.status('reconnect')
    await new Promise((r) => setTimeout(r, 10))
    expect([s.reconnects(), s.resyncs()]).toEqual([1, 1])
    s.notices.publish({ kind: 'overrides' })
    expect(s.conn.published).toHaveLength(1)
    await s.notices.close()
    s.notices.publish({ kind: 'overrides' })
    expect(s.conn.published).toHaveLength(1)
  })

  it('runs a burst of reloads as one running and one after it', async () => {
    let runs = 0
    let release: () => void = () => {}
    const reload = coalesced(
      () =>
        new Promise<void>((r) => {
          runs++
          release = r
        }),
      () => {},
    )
    for (let i = 0; i < 10; i++) reload()
    expect(runs).toBe(1)
    release()
    await new Promise((r) => setTimeout(r, 0))
    expect(runs).toBe(2)
    release()
    await new Promise((r) => setTimeout(r, 0))
    expect(runs).toBe(2)
  })
})
