import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { type AddressInfo, createServer, type Server } from 'node:net'
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes'
import type { Logger } from 'pino'
import { createWebSocketStream, WebSocketServer } from 'ws'
import type { Device, TopicParts } from '#devices'
import { authorizeDevicePublish, authorizeDeviceSubscribe, type PublishDecision } from './acl.ts'
import type { BrokerMetrics } from './metrics.ts'
import { guardPackets } from './packet-guard.ts'
import { createRateLimiter } from './rate-limit.ts'

export interface BrokerConfig {
  host: string
  port: number
  /** MQTT over WebSocket; null disables it. */
  wsPort: number | null
  maxPacketBytes: number
  maxConnections: number
  /** Open connections allowed from one remote address; 0 = no cap. */
  maxConnectionsPerAddress: number
  /** Sustained publishes per second per device, and the burst above it; 0 = no limit. */
  deviceRatePerS: number
  deviceBurst: number
  /**
   * Conformance profile: anonymous clients may use any valid topic so that MQTT
   * test suites can run. Every protocol check still applies; nothing is ingested.
   */
  auth: boolean
  keepaliveLimitS: number
  connectTimeoutMs: number
}

export interface BrokerDeps {
  config: BrokerConfig
  log: Logger
  metrics: BrokerMetrics
  /** Rejects when the store cannot answer (the device is then told the server is unavailable, not that its secret is wrong). */
  authenticate(deviceId: string, secret: string): Promise<Device | null>
  onPresence(device: Device, presence: 'online' | 'offline'): void
  /**
   * A device's own telemetry, called before the PUBACK is sent; the PUBACK waits
   * for `done`, so the handler decides when a reading counts as accepted.
   */
  onTelemetry(device: Device, parts: TopicParts, payload: Buffer, done: (err: Error | null) => void): void
}

export interface Broker {
  start(): Promise<void>
  close(): Promise<void>
  /** Disconnects a device at once (after revocation). */
  disconnect(deviceId: string): void
  readonly port: number
  readonly wsPort: number | null
  readonly aedes: Aedes
}

const authError = (message: string): AuthenticateError => Object.assign(new Error(message), { returnCode: 4 as const }) as AuthenticateError

/** Decoders replace malformed UTF-8 with U+FFFD; MQTT forbids it and NUL in strings [MQTT-1.5.3-1, -2]. */
const badString = (s: string) => s.includes('\u0000') || s.includes('\uFFFD')

export async function createBroker(deps: BrokerDeps): Promise<Broker> {
  const { config, log, metrics } = deps
  const devices = new WeakMap<Client, Device>()
  const limiter = createRateLimiter(config.deviceRatePerS, config.deviceBurst)
  const decisions = new WeakMap<Client, { topic: string; decision: PublishDecision }>()
  const wills = new WeakMap<Client, PublishPacket | undefined>()
  const refuse = (reason: string, clientId: string | undefined) => {
    metrics.refused.inc({ reason })
    log.warn({ reason, clientId }, 'mqtt refused')
  }

  const aedes = await Aedes.createBroker({
    connectTimeout: config.connectTimeoutMs,
    keepaliveLimit: config.keepaliveLimitS,
    maxTopicLevels: 8,
    // A frozen subscriber is disconnected instead of holding deliveries forever.
    drainTimeout: 10_000,
    preConnect(client, packet, cb) {
      if (badString(packet.clientId) || (packet.username !== undefined && badString(packet.username))) {
        refuse('client-id-malformed', undefined)
        return cb(new Error('malformed client id'), false)
      }
      if (!packet.clientId && packet.clean === false) {
        refuse('empty-client-id-persistent', undefined)
        return cb(new Error('an empty client id needs a clean session [MQTT-3.1.3-7]'), false)
      }
      if (packet.will && badString(packet.will.topic)) {
        refuse('will-topic-malformed', packet.clientId)
        return cb(new Error('malformed will topic'), false)
      }
      wills.set(client, packet.will as PublishPacket | undefined)
      cb(null, true)
    },
    authenticate(client, username, password, done) {
      const id = client.id
      if (!config.auth) return done(null, true)
      if (!username || !password) {
        refuse('anonymous', id)
        return done(authError('device credentials required'), false)
      }
      if (username !== id) {
        refuse('client-id-mismatch', id)
        return done(authError('client id must equal the device id'), false)
      }
      deps.authenticate(username, password.toString('utf8')).then(
        (device) => admitDevice(client, device, done),
        (e: Error) => {
          refuse('store-unavailable', id)
          log.warn({ err: e.message }, 'cannot check device credentials')
          done(Object.assign(new Error('server unavailable'), { returnCode: 3 as const }) as AuthenticateError, false)
        },
      )
    },
    authorizePublish(client, packet, cb) {
      if (!client) return cb(null) // the broker's own publishes
      if (badString(packet.topic)) {
        refuse(packet.topic.includes('\u0000') ? 'topic-nul' : 'topic-malformed-utf8', client.id)
        return cb(new Error('malformed topic'))
      }
      const wait = limiter.take(client)
      if (wait > 0) {
        metrics.throttled.inc()
        setTimeout(() => authorize(client, packet, cb), wait)
        return
      }
      authorize(client, packet, cb)
    },
    authorizeSubscribe(client, sub, cb) {
      if (!config.auth && !badString(sub.topic)) return cb(null, sub)
      const device = devices.get(client)
      if (device && authorizeDeviceSubscribe(device, sub.topic)) return cb(null, sub)
      refuse('subscribe-forbidden', client.id)
      cb(null, null) // SUBACK 0x80 for this filter; the connection stays up
    },
  })

  function admitDevice(client: Client, device: Device | null, done: (err: AuthenticateError | null, ok: boolean) => void) {
    const id = client.id
    if (!device) {
      refuse('bad-credentials', id)
      return done(authError('unknown device or wrong secret'), false)
    }
    const will = wills.get(client)
    wills.delete(client)
    if (will) {
      const d = authorizeDevicePublish(device, will.topic)
      if (!d.ok || d.parts.channel !== 'status') {
        refuse('will-forbidden', id)
        return done(authError('a Last Will may only go to the device own status topic'), false)
      }
    }
    devices.set(client, device)
    done(null, true)
  }

  function authorize(client: Client, packet: PublishPacket, cb: (err?: Error | null) => void) {
    if (!config.auth) return cb(null)
    const device = devices.get(client)
    if (!device) return cb(new Error('not authenticated'))
    // A device publishes to the same topic again and again: decide once per connection and topic.
    const last = decisions.get(client)
    const d = last?.topic === packet.topic ? last.decision : authorizeDevicePublish(device, packet.topic)
    if (last?.topic !== packet.topic) decisions.set(client, { topic: packet.topic, decision: d })
    if (!d.ok) {
      refuse(d.reason, client.id)
      return cb(new Error(d.reason))
    }
    if (d.parts.channel === 'telemetry') {
      if (packet.retain) {
        refuse('retained-telemetry', client.id)
        return cb(new Error('telemetry may not be retained'))
      }
      deps.onTelemetry(device, d.parts, packet.payload as Buffer, cb)
      return
    }
    cb(null)
  }

  aedes.on('clientReady', (client) => {
    metrics.connections.inc()
    const d = devices.get(client)
    if (d) deps.onPresence(d, 'online')
  })
  aedes.on('clientDisconnect', (client) => {
    metrics.connections.dec()
    const d = devices.get(client)
    if (d) deps.onPresence(d, 'offline')
  })
  aedes.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'mqtt client error'))
  aedes.on('connectionError', (client, err) => log.debug({ clientId: client?.id, err: err.message }, 'mqtt connection error'))

  const onOversize = (reason: 'oversize' | 'malformed', size: number) => {
    metrics.refused.inc({ reason: reason === 'oversize' ? 'packet-too-large' : 'packet-malformed' })
    log.warn({ reason, size, limit: config.maxPacketBytes }, 'mqtt packet refused, connection closed')
  }

  // Open connections per remote address, TCP and WebSocket together.
  const perAddress = new Map<string, number>()
  const admit = (addr: string, socket: { once(e: 'close', f: () => void): unknown }) => {
    const n = (perAddress.get(addr) ?? 0) + 1
    if (config.maxConnectionsPerAddress > 0 && n > config.maxConnectionsPerAddress) {
      refuse('too-many-connections-from-address', undefined)
      return false
    }
    perAddress.set(addr, n)
    socket.once('close', () => {
      const left = (perAddress.get(addr) ?? 1) - 1
      if (left > 0) perAddress.set(addr, left)
      else perAddress.delete(addr)
    })
    return true
  }

  const tcp: Server = createServer((socket) => {
    if (!admit(socket.remoteAddress ?? '', socket)) {
      socket.destroy()
      return
    }
    socket.setNoDelay(true)
    socket.on('error', () => {}) // resets by peers are routine; aedes reports them on the client
    aedes.handle(guardPackets(socket, config.maxPacketBytes, onOversize))
  })
  tcp.maxConnections = config.maxConnections

  let http: HttpServer | null = null
  let wss: WebSocketServer | null = null
  if (config.wsPort !== null) {
    http = createHttpServer()
    wss = new WebSocketServer({ server: http, maxPayload: config.maxPacketBytes + 8 })
    wss.on('connection', (ws, req) => {
      if (!admit(req.socket.remoteAddress ?? '', ws)) {
        ws.terminate()
        return
      }
      const stream = createWebSocketStream(ws)
      stream.on('error', () => {})
      aedes.handle(guardPackets(stream, config.maxPacketBytes, onOversize), req)
    })
  }

  const listen = (s: Server | HttpServer, port: number) =>
    new Promise<number>((resolve, reject) => {
      s.once('error', reject)
      s.listen(port, config.host, () => resolve((s.address() as AddressInfo).port))
    })

  let port = config.port
  let wsPort = config.wsPort
  return {
    aedes,
    get port() {
      return port
    },
    get wsPort() {
      return wsPort
    },
    async start() {
      port = await listen(tcp, config.port)
      if (http && config.wsPort !== null) wsPort = await listen(http, config.wsPort)
      log.info({ port, wsPort }, 'mqtt broker listening')
    },
    disconnect(deviceId) {
      const client = (aedes as unknown as { clients: Record<string, Client | undefined> }).clients[deviceId]
      client?.close()
    },
    async close() {
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
      wss?.close()
      await Promise.all([new Promise((r) => tcp.close(r)), http ? new Promise((r) => http!.close(r)) : null])
    },
  }
}
