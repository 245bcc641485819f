/// <reference lib="webworker" />
import { io, type Socket } from 'socket.io-client'

/** What the page asks of its connection. */
export type LiveAsk = { kind: 'start'; token: string | null } | { kind: 'connect' }
/** What the connection tells the page: its state, and each event the server sent. */
export type LiveNews =
  | { kind: 'connect' }
  | { kind: 'disconnect'; reason: string }
  | { kind: 'connect_error'; message: string; data: unknown }
  | { kind: 'event'; event: string; args: unknown[] }

/**
 * The page's Socket.IO connection, run off its main thread: the client library (41 KB) is compiled
 * and its packets parsed here, where a slow phone's first seconds are not spent on them. The page
 * gets the events as plain messages (live.ts). Same origin, so the handshake carries the session cookie.
 */
let socket: Socket | null = null
const post = (n: LiveNews) => self.postMessage(n)

self.onmessage = (e: MessageEvent<LiveAsk>) => {
  const ask = e.data
  if (ask.kind === 'connect') {
    socket?.connect()
    return
  }
  if (socket) return
  const s = ask.token === null ? io() : io({ auth: { token: ask.token } })
  socket = s
  s.on('connect', () => post({ kind: 'connect' }))
  s.on('disconnect', (reason) => post({ kind: 'disconnect', reason }))
  s.on('connect_error', (err) => post({ kind: 'connect_error', message: err.message, data: (err as { data?: unknown }).data ?? null }))
  s.onAny((event: string, ...args: unknown[]) => post({ kind: 'event', event, args }))
}
