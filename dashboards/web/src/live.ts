import type { Socket } from 'socket.io-client'
import type { ClientToServerEvents, ServerToClientEvents } from '#devices'
import type { Credentials } from './api.ts'
import type { Ended } from './dashboard.ts'

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
  let socket: RealSocket | null = null
  /** Listeners a view added before the client library had arrived. */
  const waiting: [keyof ServerToClientEvents, ServerToClientEvents[keyof ServerToClientEvents]][] = []
  const attach = (real: RealSocket) => {
    socket = real
    socket.on('connect', () => {
      setConn('live')
      dataAt = Date.now()
      if (!away) return
      away = false
      o.onBack?.()
    })
    socket.on('disconnect', (reason) => {
      gone()
      // The server's access check closed it (signed out elsewhere, roles changed): the client will not
      // retry by itself. Retrying is the check: a session that is over is refused at the handshake.
      if (reason === 'io server disconnect' && !stopped) real.connect()
    })
    socket.on('connect_error', (e) => {
      if (e.message === 'UNAUTHENTICATED') return end({ reason: 'signed-out' })
      if (e.message === 'PASSWORD_CHANGE_REQUIRED') return end({ reason: 'password-change' })
      // The handshake is braked like the API; the message says when to come back rather than blaming the credentials.
      if (e.message === 'AUTH_THROTTLED')
        return end({ reason: 'throttled', retryAfterS: Number((e as { data?: { retryAfterS?: number } }).data?.retryAfterS) || 1 })
      gone()
    })
    // biome-ignore lint/suspicious/noExplicitAny: each pair was typed together by on() below.
    for (const [event, listener] of waiting.splice(0)) real.on(event, listener as any)
  }
  // The client library (41 KB, more than the rest of the first page's code) arrives after the view has
  // drawn: a phone's first rows do not wait for it, and the view's listeners are added once it is in.
  // Should it fail to arrive, the header says reconnecting and the view keeps its last data.
  import('socket.io-client')
    .then(({ io }) => {
      if (stopped) return
      attach(credentials.kind === 'bearer' ? io({ auth: { token: credentials.token } }) : io())
    })
    .catch(() => gone())
  const stop = () => {
    stopped = true
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
        // biome-ignore lint/suspicious/noExplicitAny: the overloads of Socket.on take the pair typed as on()'s own signature says.
        if (socket) socket.on(event, listener as any)
        else waiting.push([event, listener])
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
