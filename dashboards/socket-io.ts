import type { IncomingMessage } from 'node:http'
import { fastifyCookie } from '@fastify/cookie'
import { createAdapter } from '@socket.io/redis-adapter'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { Server } from 'socket.io'
import {
  type Alert,
  alertView,
  type ClientToServerEvents,
  collectionView,
  type DataClass,
  dataClassOf,
  historyView,
  type LiveBus,
  ROLE_RIGHTS,
  type Scope,
  type ServerToClientEvents,
} from '#devices'
import type { Authenticator, Credentials } from './access/authenticate.ts'
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
const sameRooms = (a: readonly string[], b: readonly string[]) => {
  if (a.length !== b.length) return false
  const set = new Set(a)
  return b.every((r) => set.has(r))
}

/** What a socket was let in with: checked again on every sweep, so access taken away ends the connection. */
interface SocketData {
  credentials: Omit<Credentials, 'transport'>
  rooms: string[]
}

// Credentials checked at once during a sweep: enough to finish a few thousand sockets well inside the
// interval, few enough that a sweep is never a burst on the database or the auth brake.
const RECHECK_BATCH = 8

/**
 * Refuses cross-site WebSocket hijacking: a browser sends Origin on the handshake, and only a page of
 * our own (HTTP_PUBLIC_URL, or the host the request was sent to) may open a socket with the person's
 * cookie. Without Origin the caller is not a browser (automation with a bearer token) and has no
 * ambient credential to abuse.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, publicUrl: string | null): boolean {
  if (origin === undefined) return true
  let url: URL
  try {
    url = new URL(origin)
  } catch {
    return false // 'null' (sandboxed frames, file:) and garbage
  }
  if (publicUrl !== null && url.origin === new URL(publicUrl).origin) return true
  return host !== undefined && url.host === host.toLowerCase()
}

const roomsFor = (prefix: 'p' | 'v', c: DataClass, site: string) => [`${prefix}:${c}:${site}`, `${prefix}:${c}:*`]
// Every reading's live state goes to the same few rooms of its class and site: worked out once per pair, not per reading.
const stateRoomCache = new Map<DataClass, Map<string, string[]>>()
const stateRooms = (c: DataClass, site: string) => {
  let bySite = stateRoomCache.get(c)
  if (!bySite) {
    bySite = new Map()
    stateRoomCache.set(c, bySite)
  }
  let rooms = bySite.get(site)
  if (!rooms) {
    rooms = [...roomsFor('p', c, site), ...roomsFor('v', c, site)]
    bySite.set(site, rooms)
  }
  return rooms
}

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
    /** HTTP_PUBLIC_URL: its origin may open sockets, besides pages served from the request's own host. */
    publicUrl: string | null
    pingIntervalMs: number
    pingTimeoutMs: number
    /** How often every connected socket's credential and rooms are checked again (SOCKETIO_RECHECK_MS). */
    recheckMs: number
    /** Cluster mode: rooms span the nodes through Redis, so an event emitted on one reaches sockets on all. */
    redisUrl?: string | null
  },
) {
  const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>(app.server, {
    serveClient: false,
    allowRequest: (req: IncomingMessage, callback: (err: string | null | undefined, success: boolean) => void) => {
      const origin = req.headers.origin
      if (originAllowed(origin, req.headers.host, deps.publicUrl)) callback(null, true)
      else callback('ORIGIN_FORBIDDEN', false)
    },
    // A browser that stops reading misses its pongs and is dropped instead of growing our buffers.
    pingInterval: deps.pingIntervalMs,
    pingTimeout: deps.pingTimeoutMs,
    maxHttpBufferSize: 16 * 1024,
  })
  let redis: { pub: Redis; sub: Redis } | null = null
  if (deps.redisUrl) {
    const pub = new Redis(deps.redisUrl, { lazyConnect: false, maxRetriesPerRequest: null })
    const sub = pub.duplicate()
    const warn = (e: Error) => app.log.warn({ module: 'socket.io', err: e.message }, 'socket.io: Redis connection failed; retrying')
    pub.on('error', warn)
    sub.on('error', warn)
    redis = { pub, sub }
    io.adapter(createAdapter(pub, sub))
  }
  // Runs before Engine.IO answers anything, errors included, so its responses carry security headers too.
  io.engine.use((_req: unknown, res: { setHeader(name: string, value: string): unknown }, next: () => void) => {
    for (const [name, value] of Object.entries(ENGINE_IO_HEADERS)) res.setHeader(name, value)
    next()
  })
  io.use((socket, next) => {
    const token = socket.handshake.auth?.token
    const bearer = typeof token === 'string' && token !== '' ? token : null
    const cookie = bearer ? null : (fastifyCookie.parse(socket.handshake.headers.cookie ?? '')[SESSION_COOKIE] ?? null)
    const address = clientOfRequest(socket.request, deps.trustProxy)
    const credentials = { bearer, session: cookie, address }
    deps.auth
      .identify({ ...credentials, transport: 'socket.io' })
      .then(async (r) => {
        if (!r.ok) {
          if (r.status === 401) return next(refusal('UNAUTHENTICATED', { code: 'UNAUTHENTICATED' }))
          const data = { code: 'AUTH_THROTTLED', retryAfterS: r.retryAfterS, hint: HTTP_ERROR_CODES.AUTH_THROTTLED }
          return next(refusal('AUTH_THROTTLED', { ...data, message: throttledMessage(r.scope, r.retryAfterS) }))
        }
        if (r.principal.mustChangePassword) return next(refusal('PASSWORD_CHANGE_REQUIRED', { code: 'PASSWORD_CHANGE_REQUIRED' }))
        const sites = await deps.registry.areas.sitesByArea()
        const rooms = roomsOf(r.principal, (a) => sites.get(a) ?? [])
        socket.data = { credentials, rooms }
        socket.join(rooms)
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
  // Housing data: only the housing rooms of the case's site (or of every site when it has none); viewers have none.
  deps.bus.on(
    'case:changed',
    (c) => io.to(c.site === null ? ['p:housing:*'] : roomsFor('p', 'housing', c.site)).emit('case:changed', c),
    OWNER,
  )
  deps.bus.on(
    'collection:recorded',
    ({ site, collection }) => {
      io.to(roomsFor('p', 'waste', site)).emit('collection:recorded', { site, collection })
      io.to(roomsFor('v', 'waste', site)).emit('collection:recorded', {
        site,
        collection: collectionView(collection, { seesPeople: false }),
      })
    },
    OWNER,
  )
  // Live state is high-volume and disposable: volatile, so a slow browser skips updates rather than
  // queueing them, and not even encoded when nobody is watching.
  deps.bus.on(
    'device:state',
    (s) => {
      // Across nodes, another node's browsers may be watching.
      if (io.engine.clientsCount === 0 && !redis) return
      const c = dataClassOf(s.type)
      if (!c) return
      io.to(stateRooms(c, s.site)).volatile.emit('device:state', s)
    },
    OWNER,
  )
  // Access is decided at the handshake and would otherwise last as long as the connection: every
  // socket is identified again, and one whose credential no longer works or whose rooms are no longer
  // its scope's is disconnected (the client reconnects into its new scope, or is refused).
  let closed = false
  const sweep = async () => {
    const sockets = [...io.of('/').sockets.values()]
    if (sockets.length === 0) return
    const sites = await deps.registry.areas.sitesByArea()
    // Several tabs share one cookie: one check per credential, so an ended session counts once against
    // the brake however many sockets it had.
    const verdicts = new Map<string, Promise<string[] | null>>()
    const roomsNow = (c: SocketData['credentials']) => {
      const key = JSON.stringify([c.bearer, c.session, c.address])
      let v = verdicts.get(key)
      if (!v) {
        v = deps.auth.identify({ ...c, transport: 'socket.io', recheck: true }).then((r) => {
          // Throttled is refused too: a blocked address must not keep a socket it could not open now.
          if (!r.ok || r.principal.mustChangePassword) return null
          return roomsOf(r.principal, (a) => sites.get(a) ?? [])
        })
        verdicts.set(key, v)
      }
      return v
    }
    for (let i = 0; i < sockets.length && !closed; i += RECHECK_BATCH) {
      await Promise.all(
        sockets.slice(i, i + RECHECK_BATCH).map(async (socket) => {
          if (!socket.connected) return
          const rooms = await roomsNow(socket.data.credentials)
          if (rooms === null || !sameRooms(rooms, socket.data.rooms)) socket.disconnect(true)
        }),
      )
    }
  }
  let sweeping = false
  const recheck = setInterval(() => {
    // A sweep slower than the interval is not overlapped by the next one.
    if (sweeping) return
    sweeping = true
    sweep()
      .catch((e: Error) => {
        // Our own failure (the store unreachable) is not the caller's: sockets stay until a sweep can decide.
        if (!closed) app.log.warn({ module: 'socket.io', err: e.message }, 'socket.io: access recheck failed; retrying next interval')
      })
      .finally(() => {
        sweeping = false
      })
  }, deps.recheckMs)
  recheck.unref()

  app.addHook('preClose', (done) => {
    closed = true
    clearInterval(recheck)
    deps.bus.removeOwner(OWNER)
    io.local.disconnectSockets(true)
    done()
  })
  app.addHook('onClose', (_app, done) => {
    io.close(() => {
      if (!redis) return done()
      Promise.all([redis.pub.quit(), redis.sub.quit()])
        .catch(() => undefined)
        .finally(() => done())
    })
  })
  return io
}
