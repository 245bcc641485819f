// @ts-expect-error aedes-persistence-redis ships no type declarations; the little used here is typed below.
import redisPersistence from 'aedes-persistence-redis'
import { Redis } from 'ioredis'
import mqemitterRedis from 'mqemitter-redis'

/**
 * What makes Aedes one node of several (issue 15): both halves live in Redis instead of this
 * process's memory.
 *
 * - `persistence` holds the sessions: a device that moves to another node (a load balancer
 *   sends its reconnection elsewhere, a node is restarted) finds its clean=false subscriptions,
 *   the QoS 1 messages queued or still unacknowledged for it, retained messages and its will.
 * - `mq` carries every publish to every node, so a command published on one node reaches a
 *   device connected to another, and a new connection on one node closes the older one with
 *   the same client id on another (Aedes announces it on $SYS/<broker>/new/clients).
 */
export interface BrokerCluster {
  mq: unknown
  persistence: unknown
  /**
   * The packet id of the newest message still in flight to this session (sent, not yet
   * acknowledged), whichever node sent it; null when there is none.
   */
  lastPacketId(clientId: string): Promise<number | null>
  /** Closes both, once; Aedes has already closed `mq` by then if it was running. */
  close(): Promise<void>
}

interface RedisPersistence {
  outgoingStream(client: { id: string }): AsyncIterable<{ messageId?: number }>
}
/** Its options are ioredis's, which take no URL; or `conn`, a connection of the caller's. */
const persistenceOn = redisPersistence as (opts: { conn: Redis }) => RedisPersistence

export function createBrokerCluster(config: { redisUrl: string }, onError: (err: Error) => void): BrokerCluster {
  const redis = (pipelined = false) => new Redis(config.redisUrl, { enableAutoPipelining: pipelined }).on('error', onError)
  const sub = redis()
  const pub = redis(true) // as mqemitter-redis makes its own
  // Aedes's own in-memory emitter runs 100 deliveries at a time and matches `a/#` on `a` [MQTT-4.7.1-3]: the same here.
  const mq = mqemitterRedis({ subConn: sub, pubConn: pub, concurrency: 100, matchEmptyLevels: true })
  // It re-emits its connections' errors here, where no listener would mean a throw that stops the process.
  ;(mq as unknown as { state: NodeJS.EventEmitter }).state.on('error', onError)
  // Aedes closes the emitter with QUIT on both connections and waits for their 'end', which a
  // connection waiting to reconnect to a Redis that is down never emits (ioredis #1247): end those now.
  const quit = mq.close.bind(mq)
  mq.close = (cb) => {
    let called = false
    const once = () => {
      if (!called) cb()
      called = true
    }
    quit(once)
    if (sub.status === 'ready' && pub.status === 'ready') return
    sub.disconnect()
    pub.disconnect()
    setImmediate(once)
  }
  const conn = redis()
  const persistence = persistenceOn({ conn })
  let closing: Promise<void> | null = null
  return {
    mq,
    persistence,
    async lastPacketId(clientId) {
      let last: number | null = null
      // Queued in the order they were sent; those queued while the device was away have no id yet.
      for await (const p of persistence.outgoingStream({ id: clientId })) if (p.messageId) last = p.messageId
      return last
    },
    close() {
      // Not persistence.destroy(): after unsubscribing from the emitter Aedes has closed, it only disconnects this.
      closing ??= new Promise<void>((resolve) => mq.close(() => resolve())).then(() => conn.disconnect())
      return closing
    },
  }
}
