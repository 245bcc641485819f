import type { Socket } from 'socket.io-client'
import type { ClientToServerEvents, ServerToClientEvents } from '#devices'
import { afterPaint } from './after-paint.ts'
import type { Credentials } from './api.ts'
import type { Ended } from './dashboard.ts'
import type { LiveAsk, LiveNews } from './live-worker.ts'

type RealSocket = Socket<ServerToClientEvents, ClientToServerEvents>

/** What a view does with its connection: listen to the server's events. */
export interface LiveSocket {
  on<E extends keyof ServerToClientEvents>(event: E, listener: ServerToClientEvents[E]): void
}

export interface Live {
  socket: LiveSocket
  /** When what is on screen was last known current (connect, or the last event). */
  readonly dataAt: number
  touch(): void
  stop(): void
}

/**
 * A view's Socket.IO connection. With the session cookie the handshake reads the cookie (same
 * origin); with a token it sends the token. The header says live or reconnecting; a refused
 * handshake ends the view; a reconnect calls `onBack` so the view fetches what it missed.
 */
/** The newest view's connection: only it writes the header's live/reconnecting word. */
let newest: object | null = null

export function connectLive(credentials: Credentials, o: { onEnded(e: Ended): void; onBack?(): void; onAway?(since: number): void }): Live {
  const conn = document.getElementById('conn')
  const me = {}
  newest = me
  let stopped = false
  let away = false
  let dataAt = Date.now()
  const setConn = (s: string) => {
    if (conn && newest === me) conn.textContent = s
  }
  const gone = () => {
    if (stopped || away) return
    away = true
    setConn('reconnecting…')
    o.onAway?.(dataAt)
  }
  /** The views' listeners, by event: called with what the server sent, wherever the connection runs. */
  const listeners = new Map<string, ((...args: unknown[]) => void)[]>()
  const dispatch = (event: string, args: unknown[]) => {
    const list = listeners.get(event)
    if (list) for (const l of list) l(...args)
  }
  const connected = () => {
    setConn('live')
    dataAt = Date.now()
    if (!away) return
    away = false
    o.onBack?.()
  }
  const disconnected = (reason: string) => {
    gone()
    // The server's access check closed it (signed out elsewhere, roles changed): the client will not
    // retry by itself. Retrying is the check: a session that is over is refused at the handshake.
    if (reason === 'io server disconnect' && !stopped) reconnect()
  }
  const refused = (message: string, data: unknown) => {
    if (message === 'UNAUTHENTICATED') return end({ reason: 'signed-out' })
    if (message === 'PASSWORD_CHANGE_REQUIRED') return end({ reason: 'password-change' })
    // The handshake is braked like the API; the message says when to come back rather than blaming the credentials.
    if (message === 'AUTH_THROTTLED')
      return end({ reason: 'throttled', retryAfterS: Number((data as { retryAfterS?: number } | null)?.retryAfterS) || 1 })
    gone()
  }
  const token = credentials.kind === 'bearer' ? credentials.token : null

  let worker: Worker | null = null
  let socket: RealSocket | null = null
  const reconnect = () => {
    if (worker) worker.postMessage({ kind: 'connect' } satisfies LiveAsk)
    else socket?.connect()
  }
  /** The same connection in the page itself, for a browser where the worker does not start. */
  const inPage = () => {
    import('socket.io-client')
      .then(({ io }) => {
        if (stopped) return
        const real: RealSocket = token === null ? io() : io({ auth: { token } })
        socket = real
        real.on('connect', connected)
        real.on('disconnect', disconnected)
        real.on('connect_error', (e) => refused(e.message, (e as { data?: unknown }).data ?? null))
        real.onAny((event: string, ...args: unknown[]) => dispatch(event, args))
      })
      .catch(() => gone())
  }
  // The client library (41 KB, more than the rest of the first page's code) runs in a worker: a slow
  // phone's main thread neither compiles it nor parses its packets, and the first rows do not wait for
  // it. Should it fail to arrive, the header says reconnecting and the view keeps its last data.
  // Started once the view has painted: creating a worker is main-thread work the first rows need not wait for.
  const begin = () => {
    try {
      const w = new Worker(new URL('./live-worker.ts', import.meta.url), { type: 'module', name: 'live' })
      worker = w
      w.onmessage = (e: MessageEvent<LiveNews>) => {
        if (stopped) return
        const n = e.data
        if (n.kind === 'event') dispatch(n.event, n.args)
        else if (n.kind === 'connect') connected()
        else if (n.kind === 'disconnect') disconnected(n.reason)
        else refused(n.message, n.data)
      }
      w.onerror = () => {
        w.terminate()
        if (worker !== w || stopped) return
        worker = null
        inPage()
      }
      w.postMessage({ kind: 'start', token } satisfies LiveAsk)
    } catch {
      inPage()
    }
  }
  const cancelBegin = afterPaint(begin)
  const stop = () => {
    stopped = true
    cancelBegin()
    worker?.terminate()
    worker = null
    socket?.disconnect()
    setConn('')
  }
  const end = (e: Ended) => {
    if (stopped) return
    stop()
    o.onEnded(e)
  }
  return {
    socket: {
      on(event, listener) {
        const list = listeners.get(event) ?? []
        list.push(listener as (...args: unknown[]) => void)
        listeners.set(event, list)
      },
    },
    get dataAt() {
      return dataAt
    },
    touch: () => {
      dataAt = Date.now()
    },
    stop,
  }
}
