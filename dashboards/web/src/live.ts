import { io, type Socket } from 'socket.io-client'
import type { ClientToServerEvents, ServerToClientEvents } from '#devices'
import type { Credentials } from './api.ts'
import type { Ended } from './dashboard.ts'

export type LiveSocket = Socket<ServerToClientEvents, ClientToServerEvents>

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
  const socket: LiveSocket = credentials.kind === 'bearer' ? io({ auth: { token: credentials.token } }) : io()
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
    if (reason === 'io server disconnect' && !stopped) socket.connect()
  })
  socket.on('connect_error', (e) => {
    if (e.message === 'UNAUTHENTICATED') return end({ reason: 'signed-out' })
    if (e.message === 'PASSWORD_CHANGE_REQUIRED') return end({ reason: 'password-change' })
    // The handshake is braked like the API; the message says when to come back rather than blaming the credentials.
    if (e.message === 'AUTH_THROTTLED')
      return end({ reason: 'throttled', retryAfterS: Number((e as { data?: { retryAfterS?: number } }).data?.retryAfterS) || 1 })
    gone()
  })
  const stop = () => {
    stopped = true
    socket.disconnect()
    setConn('')
  }
  const end = (e: Ended) => {
    if (stopped) return
    stop()
    o.onEnded(e)
  }
  return {
    socket,
    get dataAt() {
      return dataAt
    },
    touch: () => {
      dataAt = Date.now()
    },
    stop,
  }
}
