import { type ConsumerMessages, DeliverPolicy, type NatsConnection } from 'nats'
import type { Logger } from 'pino'
import type { ReadingRecord } from '#devices'

/**
 * Every node's view of every device's latest reading (issue 15): a device publishes to one node, but
 * a crew's list or a home's page may be asked of any. Each node follows the replicated log from now
 * on with an ordered consumer (ephemeral, in memory, no acknowledgements: JetStream's own catch-up
 * after a server or leader change), so it sees only readings the stream stored, as the node that took
 * them does. A break starts it again from the newest record: a live view needs the latest reading,
 * not every one.
 */
export function createLiveFollow(deps: {
  nc: () => NatsConnection
  stream: string
  log: Logger
  onReading: (r: ReadingRecord) => void
  retryMs?: number
}) {
  const retryMs = deps.retryMs ?? 1_000
  let stopped = true
  let messages: ConsumerMessages | null = null
  let loop: Promise<void> | null = null
  let wake: (() => void) | null = null
  let liveSince: number | null = null

  // Our own ingest wrote these records after validating them; only their shape is checked here.
  const decode = (data: Uint8Array): ReadingRecord | null => {
    let r: Partial<ReadingRecord>
    try {
      r = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'))
    } catch {
      return null
    }
    return r?.kind === 'reading' &&
      typeof r.deviceId === 'string' &&
      typeof r.ts === 'number' &&
      typeof r.receivedAt === 'number' &&
      typeof r.readings === 'object' &&
      r.readings !== null
      ? (r as ReadingRecord)
      : null
  }

  const run = async () => {
    while (!stopped) {
      try {
        const consumer = await deps.nc().jetstream().consumers.get(deps.stream, { deliver_policy: DeliverPolicy.New })
        messages = await consumer.consume({ max_messages: 1_000 })
        if (stopped) {
          messages.stop()
          break
        }
        liveSince = Date.now()
        for await (const m of messages) {
          const r = decode(m.data)
          if (!r) continue
          try {
            deps.onReading(r)
          } catch (e) {
            deps.log.warn({ err: (e as Error).message }, 'live view of a followed reading failed')
          }
        }
      } catch (e) {
        if (!stopped) deps.log.warn({ err: (e as Error).message }, 'following the log for live views failed; trying again')
      }
      messages = null
      liveSince = null
      if (!stopped)
        await new Promise<void>((r) => {
          wake = r
          setTimeout(r, retryMs).unref()
        })
    }
  }

  return {
    start() {
      if (!stopped) return
      stopped = false
      loop = run()
    },
    /** Since when it has followed without a break (epoch ms); null while it is not following. */
    get liveSince() {
      return liveSince
    },
    async close(deadline = Date.now() + 5_000) {
      stopped = true
      wake?.()
      messages?.stop()
      if (loop) await Promise.race([loop, new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())).unref())])
      loop = null
    },
  }
}
export type LiveFollow = ReturnType<typeof createLiveFollow>
