import { fastifyCookie } from '@fastify/cookie'
import type { FastifyInstance } from 'fastify'
import { Server, type Socket } from 'socket.io'
import {
  type Alert,
  alertView,
  type ClientToServerEvents,
  type DataClass,
  dataClassOf,
  historyView,
  type LiveBus,
  ROLE_RIGHTS,
  type Scope,
  type ServerToClientEvents,
} from '#devices'
import type { Authenticator } from './access/authenticate.ts'
import type { Principal } from './access/principal.ts'
import { SESSION_COOKIE } from './access/sessions.ts'
import { throttledMessage } from './auth.ts'
import { clientOfRequest, type TrustProxy } from './client-address.ts'
import { HTTP_ERROR_CODES } from './errors.ts'
import { ENGINE_IO_HEADERS } from './security-headers.ts'

const refusal = (message: string, data: Record<string, unknown>) => Object.assign(new Error(message), { data })

/**
 * Rooms a socket joins at the handshake, from its grants: one per (data class, site) it may
 * read, `*` for every site; `p:` rooms for callers who see people, `v:` for those who do not
 * (they get alerts without names and notes). An event goes to the rooms of its class and site.
 */
export function roomsOf(
  p: Pick<Principal, 'grants'> & { scope: Pick<Scope, 'seesPeople'> },
  sitesOf: (area: string) => readonly string[],
): string[] {
  const prefix = p.scope.seesPeople ? 'p' : 'v'
  const rooms = new Set<string>()
  for (const g of p.grants) {
    const sites = g.areas === null ? ['*'] : g.areas.flatMap(sitesOf)
    for (const c of ROLE_RIGHTS[g.role].read) for (const s of sites) rooms.add(`${prefix}:${c}:${s}`)
    for (const s of sites) rooms.add(`site:${s}`)
  }
  return [...rooms]
}
const roomsFor = (prefix: 'p' | 'v', c: DataClass, site: string) => [`${prefix}:${c}:${site}`, `${prefix}:${c}:*`]

/**
 * Socket.IO on Fastify's own server (fastify-socket.io is unmaintained). The caller is
 * identified at the handshake, from a session cookie or a bearer token, exactly as the REST
 * API does; nothing is sent to an unauthenticated socket, and each socket hears only its rooms.
 */
export function attachSocketIo(
  app: FastifyInstance,
  deps: {
    auth: Authenticator
    registry: { areas: { sitesByArea(): Promise<Map<string, string[]>> } }
    trustProxy: TrustProxy
    bus: LiveBus
    pingIntervalMs: number
    pingTimeoutMs: number
  },
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
  io.use((socket: Socket, next) => {
    const token = socket.handshake.auth?.token
    const bearer = typeof token === 'string' && token !== '' ? token : null
    const cookie = bearer ? null : (fastifyCookie.parse(socket.handshake.headers.cookie ?? '')[SESSION_COOKIE] ?? null)
    const address = clientOfRequest(socket.request, deps.trustProxy)
    deps.auth
      .identify({ bearer, session: cookie, address, transport: 'socket.io' })
      .then(async (r) => {
        if (!r.ok) {
          if (r.status === 401) return next(refusal('UNAUTHENTICATED', { code: 'UNAUTHENTICATED' }))
          const data = { code: 'AUTH_THROTTLED', retryAfterS: r.retryAfterS, hint: HTTP_ERROR_CODES.AUTH_THROTTLED }
          return next(refusal('AUTH_THROTTLED', { ...data, message: throttledMessage(r.scope, r.retryAfterS) }))
        }
        if (r.principal.mustChangePassword) return next(refusal('PASSWORD_CHANGE_REQUIRED', { code: 'PASSWORD_CHANGE_REQUIRED' }))
        const sites = await deps.registry.areas.sitesByArea()
        socket.join(roomsOf(r.principal, (a) => sites.get(a) ?? []))
        next()
      })
      .catch((e: Error) => next(e))
  })

  const toAlert = (event: 'alert:raised' | 'alert:acknowledged' | 'alert:cleared', a: Alert) => {
    const c = dataClassOf(a.deviceType)
    if (!c) return
    io.to(roomsFor('p', c, a.site)).emit(event, a)
    io.to(roomsFor('v', c, a.site)).emit(event, alertView(a, { seesPeople: false }))
  }
  // Owned by 'socket.io' so that closing removes them all, whatever else listens on the bus.
  const OWNER = 'socket.io'
  deps.bus.on('alert:raised', (a) => toAlert('alert:raised', a), OWNER)
  deps.bus.on('alert:acknowledged', (a) => toAlert('alert:acknowledged', a), OWNER)
  deps.bus.on('alert:cleared', (a) => toAlert('alert:cleared', a), OWNER)
  deps.bus.on(
    'alert:changed',
    (ch) => {
      const c = dataClassOf(ch.alert.deviceType)
      if (!c) return
      io.to(roomsFor('p', c, ch.alert.site)).emit('alert:changed', ch)
      const hidden = { seesPeople: false }
      io.to(roomsFor('v', c, ch.alert.site)).emit('alert:changed', {
        action: ch.action,
        alert: alertView(ch.alert, hidden),
        entry: historyView(ch.entry, hidden),
      })
    },
    OWNER,
  )
  const toSite = (site: string) => [`site:${site}`, 'site:*']
  deps.bus.on('incident:raised', (i) => io.to(toSite(i.site)).emit('incident:raised', i), OWNER)
  deps.bus.on('incident:updated', (i) => io.to(toSite(i.site)).emit('incident:updated', i), OWNER)
  deps.bus.on('incident:cleared', (i) => io.to(toSite(i.site)).emit('incident:cleared', i), OWNER)
  // Live state is high-volume and disposable: volatile, so a slow browser skips updates rather than
  // queueing them, and not even encoded when nobody is watching.
  deps.bus.on(
    'device:state',
    (s) => {
      if (io.engine.clientsCount === 0) return
      const c = dataClassOf(s.type)
      if (!c) return
      io.to([...roomsFor('p', c, s.site), ...roomsFor('v', c, s.site)]).volatile.emit('device:state', s)
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
