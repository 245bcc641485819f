import type { NatsConnection, Subscription } from 'nats'
import type { Logger } from 'pino'
import { ClusterNotice } from '#devices'

const MAX_NOTICE_BYTES = 4_096
const FUTURE_SLACK_MS = 5 * 60_000

/** What a node sends; the channel adds its name. */
export type Notice = ClusterNotice extends infer N ? (N extends ClusterNotice ? Omit<N, 'from'> : never) : never

/**
 * Tells the other nodes of a cluster what changed in the shared store that they keep a copy of
 * (rule overrides, schedules) or must act on (a crew's collection mark), over core NATS (issue 15).
 * Core NATS delivers at most once: a node cut off from NATS when a notice went out misses it, so
 * every node also reloads on a timer and whenever its connection comes back.
 */
export function createChangeNotices(deps: {
  nc: () => NatsConnection
  node: string
  subject: string
  log: Logger
  /** A notice from another node; a node's own are not handed back. */
  onNotice: (n: ClusterNotice) => void
  /** Loads again what the notices keep in step. */
  resync: () => Promise<void>
  resyncEveryMs: number
  /** The connection came back: notices sent meanwhile are lost. */
  onReconnect?: () => void
  now?: () => number
}) {
  const now = deps.now ?? Date.now
  let sub: Subscription | null = null
  let timer: NodeJS.Timeout | null = null
  let stopped = true
  // The connection's status is watched once for its life (a start after a close must not watch it twice).
  let watching = false
  const resync = (why: string) =>
    deps.resync().catch((e: Error) => deps.log.warn({ err: e.message, why }, 'reloading rules and schedules failed'))

  return {
    start() {
      if (!stopped) return
      stopped = false
      const nc = deps.nc()
      sub = nc.subscribe(deps.subject, {
        callback: (err, msg) => {
          if (err) return deps.log.warn({ err: err.message }, 'change notices stopped')
          // A notice is a few hundred bytes; anything much larger is not one of ours.
          if (msg.data.length > MAX_NOTICE_BYTES) return deps.log.warn({ bytes: msg.data.length }, 'an oversized change notice was ignored')
          let parsed: ReturnType<typeof ClusterNotice.safeParse>
          try {
            parsed = ClusterNotice.safeParse(JSON.parse(msg.string()))
          } catch {
            return deps.log.warn('a change notice that is not JSON was ignored')
          }
          if (!parsed.success) return deps.log.warn({ issues: parsed.error.issues.length }, 'a change notice of no known kind was ignored')
          const n = parsed.data
          if (n.from === deps.node) return
          // A mark is never in the future (the API refuses one), and one that was would hide every real mark until then.
          if (n.kind === 'collection' && n.at > now() + FUTURE_SLACK_MS)
            return deps.log.warn({ deviceId: n.deviceId }, 'a collection notice from the future was ignored')
          deps.onNotice(n)
        },
      })
      timer = setInterval(() => void resync('timer'), deps.resyncEveryMs).unref()
      if (watching) return
      watching = true
      void (async () => {
        // Ends when the connection closes (the log drains it last).
        for await (const st of nc.status()) {
          if (stopped || st.type !== 'reconnect') continue
          deps.onReconnect?.()
          void resync('reconnected to NATS')
        }
      })()
        .catch(() => undefined)
        .finally(() => {
          watching = false
        })
    },
    /** After the write committed. Best effort: a lost notice is made good by the next reload. */
    publish(n: Notice) {
      if (stopped) return
      try {
        deps.nc().publish(deps.subject, JSON.stringify({ ...n, from: deps.node }))
      } catch (e) {
        deps.log.warn({ err: (e as Error).message, kind: n.kind }, 'could not tell the other nodes of a change')
      }
    },
    async close(_deadline?: number) {
      stopped = true
      if (timer) clearInterval(timer)
      timer = null
      sub?.unsubscribe()
      sub = null
    },
  }
}
export type ChangeNotices = ReturnType<typeof createChangeNotices>
