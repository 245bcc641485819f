import type { FastifyInstance } from 'fastify'
import { Server } from 'socket.io'
import type { ClientToServerEvents, LiveBus, ServerToClientEvents } from '#devices'
import { ADMIN_IDENTITY, throttledMessage, type VerifyToken } from './auth.ts'
import type { AuthGuard } from './auth-guard.ts'
import { clientOfRequest, type TrustProxy } from './client-address.ts'
import { HTTP_ERROR_CODES } from './errors.ts'
import { ENGINE_IO_HEADERS } from './security-headers.ts'

const refusal = (message: string, data: Record<string, unknown>) => Object.assign(new Error(message), { data })

/**
 * Socket.IO on Fastify's own server (fastify-socket.io is unmaintained). The token
 * is checked at the handshake; nothing is sent to an unauthenticated socket.
 */
export function attachSocketIo(
  app: FastifyInstance,
  deps: { verify: VerifyToken; guard: AuthGuard; trustProxy: TrustProxy; bus: LiveBus; pingIntervalMs: number; pingTimeoutMs: number },
) {
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(app.server, {
    serveClient: false,
    // A browser that stops reading misses its pongs and is dropped instead of growing our buffers.
    pingInterval: deps.pingIntervalMs,
    pingTimeout: deps.pingTimeoutMs,
    maxHttpBufferSize: 16 * 1024,
  })
  // Runs before Engine.IO answers anything, errors included, so its responses carry security headers too.
  io.engine.use((_req: unknown, res: { setHeader(name: string, value: string): unknown }, next: () => void) => {
    for (const [name, value] of Object.entries(ENGINE_IO_HEADERS)) res.setHeader(name, value)
    next()
  })
  // The same guard as the REST API: the handshake must not be a way around its brake.
  io.use((socket, next) => {
    const token = socket.handshake.auth?.token
    if (typeof token !== 'string' || token === '') return next(refusal('UNAUTHENTICATED', { code: 'UNAUTHENTICATED' }))
    const address = clientOfRequest(socket.request, deps.trustProxy)
    const refused = deps.guard.check(address, ADMIN_IDENTITY, 'socket.io')
    if (refused) {
      const data = { code: 'AUTH_THROTTLED', retryAfterS: refused.retryAfterS, hint: HTTP_ERROR_CODES.AUTH_THROTTLED }
      return next(refusal('AUTH_THROTTLED', { ...data, message: throttledMessage(refused.scope, refused.retryAfterS) }))
    }
    if (deps.verify(token)) {
      deps.guard.succeeded(address)
      return next()
    }
    deps.guard.failed(address, ADMIN_IDENTITY, 'socket.io')
    next(refusal('UNAUTHENTICATED', { code: 'UNAUTHENTICATED' }))
  })
  // Owned by 'socket.io' so that closing removes them all, whatever else listens on the bus.
  const OWNER = 'socket.io'
  deps.bus.on('alert:raised', (a) => io.emit('alert:raised', a), OWNER)
  deps.bus.on('alert:acknowledged', (a) => io.emit('alert:acknowledged', a), OWNER)
  deps.bus.on('alert:cleared', (a) => io.emit('alert:cleared', a), OWNER)
  deps.bus.on('alert:changed', (c) => io.emit('alert:changed', c), OWNER)
  deps.bus.on('incident:raised', (i) => io.emit('incident:raised', i), OWNER)
  deps.bus.on('incident:updated', (i) => io.emit('incident:updated', i), OWNER)
  deps.bus.on('incident:cleared', (i) => io.emit('incident:cleared', i), OWNER)
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
