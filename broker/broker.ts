import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes'
import type { Logger } from 'pino'
import type { Device, TopicParts } from '#devices'
import { authorizeDevicePublish, authorizeDeviceSubscribe, type PublishDecision } from './acl.ts'
import { type AuthBrakeConfig, createAuthBrake } from './auth-brake.ts'
import { createBrokerCluster } from './cluster.ts'
import { createCredentialCheck } from './credential-check.ts'
import { counted, refusalReason } from './error-reasons.ts'
import { createListeners, type MqttTlsConfig } from './listeners.ts'
import type { BrokerMetrics } from './metrics.ts'
import { stringFault, unacceptableString } from './mqtt-strings.ts'
import type { GuardedStream } from './packet-guard.ts'
import { Connack, type ConnackCode, ProtocolViolation } from './protocol-violation.ts'
import { createRateLimiter } from './rate-limit.ts'
import { createRefusals } from './refusals.ts'
import { createSessionPacketIds } from './session-packet-ids.ts'
import { answerUnknownPubrec } from './unknown-pubrec.ts'

export interface BrokerConfig {
  host: string
  /** Plain MQTT over TCP; null turns it off (TLS only). */
  port: number | null
  /** MQTT over WebSocket; null disables it. */
  wsPort: number | null
  /** MQTT over TLS and secure WebSocket; null when no certificate is configured. */
  tls: MqttTlsConfig | null
  maxPacketBytes: number
  maxConnections: number
  /** Open connections allowed from one remote address; 0 = no cap. */
  maxConnectionsPerAddress: number
  /** Addresses exempt from that cap (gateways many devices share). */
  trustedAddresses: ReadonlySet<string>
  /** Sustained publishes per second per device, and the burst above it; 0 = no limit. */
  deviceRatePerS: number
  deviceBurst: number
  /**
   * Conformance profile: anonymous clients may use any valid topic so that MQTT
   * test suites can run. Every protocol check still applies; nothing is ingested.
   */
  auth: boolean
  /** The longest keep-alive a client may ask for, in seconds; 0 = no limit. */
  keepaliveLimitS: number
  /** Keep-alive 0 ("none") is accepted: offline detection comes from reporting intervals, dead peers from TCP keep-alive. */
  keepaliveZero: boolean
  connectTimeoutMs: number
  /** Slows guessing of device secrets (see auth-brake.ts). */
  authBrake: AuthBrakeConfig
  /** One node of several, sharing sessions and publishes through Redis (cluster.ts); absent or null, all in memory. */
  cluster?: { redisUrl: string } | null
}

export interface BrokerDeps {
  config: BrokerConfig
  log: Logger
  metrics: BrokerMetrics
  /** Rejects when the store cannot answer (the device is then told the server is unavailable, not that its secret is wrong). */
  authenticate(deviceId: string, secret: string): Promise<Device | null>
  /** `since`: when the connection began (for offline: a newer connection elsewhere keeps the device online). */
  onPresence(device: Device, presence: 'online' | 'offline', since: Date): void
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
  /** Reads the TLS certificate and key again; open connections keep theirs. False (and logged) when they cannot be served. */
  reloadTls(): boolean
  /** Plain TCP port once started; 0 when plain TCP is off. */
  readonly port: number
  readonly wsPort: number | null
  readonly tlsPort: number | null
  readonly wssPort: number | null
  readonly aedes: Aedes
}

const connackError = (returnCode: ConnackCode, message: string): AuthenticateError =>
  counted(Object.assign(new Error(message), { returnCode })) as AuthenticateError
const authError = (message: string) => connackError(Connack.badUserNameOrPassword, message)

/** Idle time before TCP probes a silent peer: how a dead client with keep-alive 0 is found. */
const TCP_KEEPALIVE_MS = 60_000

type ParsingClient = Client & { _parser?: { error?: Error | null } }

export async function createBroker(deps: BrokerDeps): Promise<Broker> {
  const { config, log, metrics } = deps
  const devices = new WeakMap<Client, Device>()
  const limiter = createRateLimiter(config.deviceRatePerS, config.deviceBurst)
  const checkCredentials = createCredentialCheck(createAuthBrake(config.authBrake), deps.authenticate, (action) =>
    metrics.authBraked.inc({ action }),
  )
  const decisions = new WeakMap<Client, { topic: string; decision: PublishDecision }>()
  const wills = new WeakMap<Client, PublishPacket | undefined>()
  const addresses = new WeakMap<Client, string>()
  // Refusals decided when the CONNECT arrives; preConnect can only close, so they are answered in authenticate with a CONNACK code.
  const refuseAtAuth = new WeakMap<Client, { reason: string; detail: Record<string, unknown> }>()
  // Connections this file refused with a CONNACK (and counted); any other refusing CONNACK is Aedes's own.
  const connackRefused = new WeakSet<Client>()
  const refusals = createRefusals(metrics, log)
  const refuse = (reason: string, clientId: string | null | undefined, detail?: Record<string, unknown>) =>
    refusals.refuse(reason, clientId ? { clientId, ...detail } : detail)
  const liveClient = (id: string) => (aedes as unknown as { clients: Record<string, Client | undefined> }).clients[id]
  const packetIds = createSessionPacketIds(liveClient)

  const peerSocket = (client: Client) => (client.conn as Partial<GuardedStream>).peer ?? client.req?.socket

  // While Redis is down each of its connections reports every attempt to reconnect: the same error once a minute is enough.
  let lastRedisError = { message: '', at: 0 }
  const onRedisError = (err: Error) => {
    if (err.message === lastRedisError.message && Date.now() - lastRedisError.at < 60_000) return
    lastRedisError = { message: err.message, at: Date.now() }
    log.warn({ err: err.message }, 'broker cluster: redis error')
  }
  const cluster = config.cluster ? createBrokerCluster(config.cluster, onRedisError) : null
  const aedes = await Aedes.createBroker({
    ...(cluster && { mq: cluster.mq, persistence: cluster.persistence }),
    connectTimeout: config.connectTimeoutMs,
    // Aedes refuses keep-alive 0 and long keep-alives with return code 6, which MQTT 3.1.1 does not have; checked in preConnect instead.
    keepaliveLimit: 0,
    maxTopicLevels: 8,
    // A frozen subscriber is disconnected instead of holding deliveries forever.
    drainTimeout: 10_000,
    // The packet guard has checked the CONNECT's structure, strings and flags (connect-check.ts) before this runs.
    preConnect(client, packet, cb) {
      const socket = peerSocket(client)
      socket?.setKeepAlive(true, TCP_KEEPALIVE_MS)
      addresses.set(client, socket?.remoteAddress ?? '')
      const keepalive = packet.keepalive ?? 0
      if (keepalive === 0 ? !config.keepaliveZero : config.keepaliveLimitS > 0 && keepalive > config.keepaliveLimitS) {
        refuseAtAuth.set(client, {
          reason: keepalive === 0 ? 'keepalive-zero' : 'keepalive-too-long',
          detail: { keepalive, limit: config.keepaliveLimitS },
        })
      }
      packetIds.start(client, packet.clientId, packet.clean !== false)
      wills.set(client, packet.will as PublishPacket | undefined)
      cb(null, true)
    },
    authenticate(client, username, password, done) {
      const id = client.id
      const deny = (code: ConnackCode, reason: string, message: string, detail?: Record<string, unknown>) => {
        connackRefused.add(client)
        refuse(reason, id, detail)
        done(connackError(code, message), false)
      }
      const early = refuseAtAuth.get(client)
      if (early) {
        refuseAtAuth.delete(client)
        // MQTT 3.1.1 has no return code for a keep-alive; Mosquitto answers a 3.1.1 client whose keep-alive
        // is over max_keepalive with 0x02 (identifier rejected), so this does too.
        return deny(Connack.identifierRejected, early.reason, 'keep-alive not accepted', early.detail)
      }
      if (!config.auth) return admitted(client, done)
      if (!username || !password) return deny(Connack.badUserNameOrPassword, 'anonymous', 'device credentials required')
      if (username !== id) return deny(Connack.badUserNameOrPassword, 'client-id-mismatch', 'client id must equal the device id')
      const address = addresses.get(client) ?? ''
      checkCredentials(
        address,
        username,
        password.toString('utf8'),
        () => client.closed,
        (o) => {
          if (o.ok) return admitDevice(client, o.device, done)
          if (o.why === 'wrong-secret') return deny(Connack.badUserNameOrPassword, 'bad-credentials', 'unknown device or wrong secret')
          // Not "bad user name or password" when braked: the secret was not looked at, and the device should retry later.
          if (o.why === 'braked')
            return deny(Connack.serverUnavailable, 'auth-braked', 'too many wrong secrets from this address; try later')
          log.warn({ err: o.error.message }, 'cannot check device credentials')
          deny(Connack.serverUnavailable, 'store-unavailable', 'server unavailable')
        },
      )
    },
    authorizePublish(client, packet, cb) {
      if (!client) return cb(null) // the broker's own publishes
      // [MQTT-2.3.1-1]; Mosquitto closes the connection too (handle__publish).
      if (packet.qos > 0 && packet.messageId === 0) {
        refuse('packet-id-zero', client.id, { packet: 'publish' })
        return cb(counted(new Error('a QoS 1 or 2 PUBLISH needs a non-zero packet id')))
      }
      if (unacceptableString(packet.topic)) {
        refuse(`topic-${stringFault(packet.topic)}`, client.id)
        return cb(counted(new Error('malformed topic')))
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
      // Filters with bad characters never get here: the packet guard closes on them (subscribe-check.ts).
      if (!config.auth) return cb(null, sub)
      const device = devices.get(client)
      if (device && authorizeDeviceSubscribe(device, sub.topic)) return cb(null, sub)
      refuse('subscribe-forbidden', client.id)
      cb(null, null) // SUBACK 0x80 for this filter; the connection stays up
    },
  }).catch(async (err: unknown) => {
    await cluster?.close() // Redis could not be reached: leave no connection retrying behind
    throw err
  })
  answerUnknownPubrec((aedes as unknown as { persistence: Parameters<typeof answerUnknownPubrec>[0] }).persistence, (clientId, messageId) =>
    log.debug({ clientId, messageId }, 'PUBREC for an unknown packet id; answered with PUBREL'),
  )

  function admitDevice(client: Client, device: Device, done: (err: AuthenticateError | null, ok: boolean) => void) {
    const id = client.id
    const will = wills.get(client)
    wills.delete(client)
    if (will) {
      const d = authorizeDevicePublish(device, will.topic)
      if (!d.ok || d.parts.channel !== 'status') {
        connackRefused.add(client)
        refuse('will-forbidden', id)
        return done(authError('a Last Will may only go to the device own status topic'), false)
      }
    }
    devices.set(client, device)
    admitted(client, done)
  }

  /**
   * A resumed session's messages still in flight may have been sent by another node, which
   * numbered them; packetIds only knows this node's. New messages go on after the newest of
   * them, so that two in flight never share an id [MQTT-2.3.1-2].
   */
  function admitted(client: Client, done: (err: AuthenticateError | null, ok: boolean) => void) {
    if (!cluster || client.clean !== false) return done(null, true)
    cluster.lastPacketId(client.id).then(
      (last) => {
        if (last) (client as Client & { _nextId: number })._nextId = (last % 65535) + 1
        done(null, true)
      },
      (err: Error) => {
        log.warn({ err: err.message }, 'broker cluster: cannot read a session from redis')
        connackRefused.add(client)
        refuse('store-unavailable', client.id)
        done(connackError(Connack.serverUnavailable, 'server unavailable'), false)
      },
    )
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
      return cb(counted(new Error(d.reason)))
    }
    if (d.parts.channel === 'telemetry') {
      if (packet.retain) {
        refuse('retained-telemetry', client.id)
        return cb(counted(new Error('telemetry may not be retained')))
      }
      deps.onTelemetry(device, d.parts, packet.payload as Buffer, cb)
      return
    }
    cb(null)
  }

  const connectedAt = new WeakMap<Client, Date>()
  aedes.on('clientReady', (client) => {
    metrics.connections.inc()
    const d = devices.get(client)
    const at = new Date()
    connectedAt.set(client, at)
    if (d) deps.onPresence(d, 'online', at)
  })
  aedes.on('clientDisconnect', (client) => {
    metrics.connections.dec()
    packetIds.end(client)
    const d = devices.get(client)
    if (d) deps.onPresence(d, 'offline', connectedAt.get(client) ?? new Date(0))
  })
  // Every close for a protocol error is counted once, with its reason: the packet guard's, or Aedes's own.
  const onError = (client: Client | null, err: Error) => {
    if (err instanceof ProtocolViolation) {
      const { reason, statement, connack, detail } = err.violation
      // No address: a client's address is personal data and stays out of the logs (the counters say how many).
      refuse(reason, client?.id, { statement, connack, ...detail })
      return
    }
    const reason = refusalReason(err, client !== null && (client as ParsingClient)._parser?.error === err)
    if (reason) refuse(reason, client?.id, { err: err.message })
    else log.debug({ clientId: client?.id, err: err.message }, 'mqtt connection closed')
  }
  aedes.on('clientError', onError)
  aedes.on('connectionError', onError)
  aedes.on('connackSent', (packet, client) => {
    // Aedes still refuses one thing itself: an MQTT 3.1 client id over 23 characters (return code 2).
    if (!packet.returnCode || connackRefused.has(client)) return
    refuse(packet.returnCode === 2 ? 'client-id-too-long' : `connack-${packet.returnCode}`, client.id)
  })

  const onOversize = (reason: 'oversize' | 'malformed', size: number) =>
    refuse(reason === 'oversize' ? 'packet-too-large' : 'packet-malformed', undefined, { size, limit: config.maxPacketBytes })

  const listeners = createListeners({
    config,
    log,
    refuse: (reason) => refuse(reason, undefined),
    onOversize,
    handle: (stream, req) => aedes.handle(stream, req),
  })

  return {
    aedes,
    get port() {
      return listeners.ports.tcp ?? 0
    },
    get wsPort() {
      return listeners.ports.ws
    },
    get tlsPort() {
      return listeners.ports.tls
    },
    get wssPort() {
      return listeners.ports.wss
    },
    start: listeners.start,
    reloadTls: listeners.reloadTls,
    disconnect(deviceId) {
      const client = (aedes as unknown as { clients: Record<string, Client | undefined> }).clients[deviceId]
      client?.close()
    },
    async close() {
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
      await cluster?.close()
      await listeners.close()
      refusals.close()
    },
  }
}
