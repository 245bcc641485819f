import type { FastifyInstance } from 'fastify'
import { Server } from 'socket.io'
import type { ClientToServerEvents, LiveBus, ServerToClientEvents } from '#devices'
import type { VerifyToken } from './auth.ts'

/**
 * Socket.IO on Fastify's own server (fastify-socket.io is unmaintained). The token
 * is checked at the handshake; nothing is sent to an unauthenticated socket.
 */
export function attachSocketIo(
  app: FastifyInstance,
  deps: { verify: VerifyToken; bus: LiveBus; pingIntervalMs: number; pingTimeoutMs: number },
) {
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(app.server, {
    serveClient: false,
    // A browser that stops reading misses its pongs and is dropped instead of growing our buffers.
    pingInterval: deps.pingIntervalMs,
    pingTimeout: deps.pingTimeoutMs,
    maxHttpBufferSize: 16 * 1024,
  })
  io.use((socket, next) => {
    const token = socket.handshake.auth?.token
    if (typeof token === 'string' && deps.verify(token)) return next()
    const err = Object.assign(new Error('UNAUTHENTICATED'), { data: { code: 'UNAUTHENTICATED' } })
    next(err)
  })
  // Owned by 'socket.io' so that closing removes them all, whatever else listens on the bus.
  const OWNER = 'socket.io'
  deps.bus.on('alert:raised', (a) => io.emit('alert:raised', a), OWNER)
  deps.bus.on('alert:acknowledged', (a) => io.emit('alert:acknowledged', a), OWNER)
  deps.bus.on('alert:cleared', (a) => io.emit('alert:cleared', a), OWNER)
  // Live state is high-volume and disposable: volatile, so a slow browser skips updates rather than
  // queueing them, and not even encoded when nobody is watching.
  deps.bus.on(
    'device:state',
    (s) => {
      if (io.engine.clientsCount > 0) io.volatile.emit('device:state', s)
    },
    OWNER,
  )
  app.addHook('preClose', (done) => {
    deps.bus.removeOwner(OWNER)
    io.local.disconnectSockets(true)
    done()
  })
  app.addHook('onClose', (_app, done) => {
    io.close(() => done())
  })
  return io
}
