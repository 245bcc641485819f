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
export function connectLive(credentials: Credentials, o: { onEnded(e: Ended): void; onBack?(): void; onAway?(since: number): void }): Live {
  const socket: LiveSocket = credentials.kind === 'bearer' ? io({ auth: { token: credentials.token } }) : io()
  const conn = document.getElementById('conn')
  let stopped = false
  let away = false
  let dataAt = Date.now()
  const setConn = (s: string) => {
    if (conn) conn.textContent = s
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
  socket.on('disconnect', gone)
  socket.on('connect_error', (e) => {
    if (e.message === 'UNAUTHENTICATED') return end({ reason: 'signed-out' })
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
