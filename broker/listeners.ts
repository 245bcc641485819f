import { createServer as createHttpServer, type Server as HttpServer, type IncomingMessage } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls'
import type { Logger } from 'pino'
import { createWebSocketStream, WebSocketServer } from 'ws'
import type { BrokerConfig } from './broker.ts'
import { guardPackets } from './packet-guard.ts'
import { loadTls, TlsConfigError, type TlsFiles, type TlsMaterial } from './tls.ts'

/** MQTT over TLS and over secure WebSocket, served with one certificate. */
export type MqttTlsConfig = TlsFiles & { port: number | null; wsPort: number | null }

/** The broker's settings that the listeners use: a slice of its config, not a second copy. */
export type ListenerConfig = Pick<
  BrokerConfig,
  | 'host'
  | 'port'
  | 'wsPort'
  | 'tls'
  | 'maxPacketBytes'
  | 'maxConnections'
  | 'maxConnectionsPerAddress'
  | 'trustedAddresses'
  | 'connectTimeoutMs'
>

export interface ListenerDeps {
  config: ListenerConfig
  log: Logger
  /** Counts and logs a refused connection. */
  refuse(reason: string): void
  onOversize(reason: 'oversize' | 'malformed', size: number): void
  /** Hands an admitted, guarded MQTT byte stream to the broker. */
  handle(stream: Duplex, req?: IncomingMessage): void
}

export interface Ports {
  tcp: number | null
  ws: number | null
  tls: number | null
  wss: number | null
}

/**
 * The broker's listeners: plain TCP, TLS, WebSocket and secure WebSocket. Every
 * transport goes through the same per-address admission and the same packet guard
 * before the broker sees a byte.
 */
export function createListeners(deps: ListenerDeps) {
  const { config, log } = deps

  // Open connections per remote address, all transports together.
  const perAddress = new Map<string, number>()
  const admit = (addr: string, socket: { once(e: 'close', f: () => void): unknown }) => {
    const n = (perAddress.get(addr) ?? 0) + 1
    const trusted = config.trustedAddresses.has(addr.replace(/^::ffff:(?=\d+\.)/, ''))
    if (config.maxConnectionsPerAddress > 0 && n > config.maxConnectionsPerAddress && !trusted) {
      deps.refuse('too-many-connections-from-address')
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
  const admitSocket = (socket: Socket) => {
    if (admit(socket.remoteAddress ?? '', socket)) return true
    socket.destroy()
    return false
  }

  const enter = (socket: Socket) => {
    socket.setNoDelay(true)
    socket.on('error', () => {}) // resets by peers are routine; aedes reports them on the client
    deps.handle(guardPackets(socket, config.maxPacketBytes, deps.onOversize))
  }
  const webSockets = (server: HttpServer, admitted: boolean) => {
    const wss = new WebSocketServer({ server, maxPayload: config.maxPacketBytes + 8 })
    wss.on('connection', (ws, req) => {
      if (!admitted && !admit(req.socket.remoteAddress ?? '', ws)) {
        ws.terminate()
        return
      }
      const stream = createWebSocketStream(ws)
      stream.on('error', () => {})
      deps.handle(guardPackets(stream, config.maxPacketBytes, deps.onOversize), req)
    })
    return wss
  }

  const tls = config.tls
  const tcp: Server | null =
    config.port === null
      ? null
      : createServer((socket) => {
          if (admitSocket(socket)) enter(socket)
        })
  const http = config.wsPort === null ? null : createHttpServer()
  // A handshake that stalls costs no longer than a CONNECT that never comes.
  const tlsServer = tls && tls.port !== null ? createTlsServer({ handshakeTimeout: config.connectTimeoutMs }, enter) : null
  const https = tls && tls.wsPort !== null ? createHttpsServer({ handshakeTimeout: config.connectTimeoutMs }) : null
  for (const s of [tcp, tlsServer]) if (s) s.maxConnections = config.maxConnections
  const webSocketServers = [http && webSockets(http, false), https && webSockets(https, true)]

  // TLS sockets are admitted before the handshake, the costly part, so one address cannot hold more
  // handshakes open than its cap. Prepended: Node's own listener wraps the socket in TLS next.
  const secure = [tlsServer, https].filter((s): s is TlsServer => s !== null)
  const rawSockets = new Set<Socket>()
  for (const s of secure) {
    s.prependListener('connection', (raw: Socket) => {
      if (!admitSocket(raw)) return
      rawSockets.add(raw)
      raw.once('close', () => rawSockets.delete(raw))
    })
    s.on('tlsClientError', (err: NodeJS.ErrnoException) => {
      // A reset is a peer that went away, or a socket refused by admission (already counted).
      if (err.code !== 'ECONNRESET') deps.refuse('tls-handshake-failed')
      log.debug({ err: err.message }, 'mqtt tls handshake failed')
    })
  }

  let current: TlsMaterial | null = null
  const serve = (m: TlsMaterial) => {
    for (const s of secure) s.setSecureContext({ cert: m.cert, key: m.key })
    current = m
    if (m.summary.expired) log.warn({ certificate: m.summary }, 'the MQTT TLS certificate has expired; devices will refuse it')
  }

  const listen = (s: Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      s.once('error', reject)
      s.listen(port, config.host, () => resolve((s.address() as AddressInfo).port))
    })

  const ports: Ports = { tcp: null, ws: null, tls: null, wss: null }
  return {
    ports: ports as Readonly<Ports>,
    /** Throws a TlsConfigError, before anything listens, when the certificate or key cannot be served. */
    async start() {
      if (tls) serve(loadTls(tls))
      const bind: [keyof Ports, Server | null, number | null | undefined][] = [
        ['tcp', tcp, config.port],
        ['tls', tlsServer, tls?.port],
        ['ws', http, config.wsPort],
        ['wss', https, tls?.wsPort],
      ]
      for (const [key, server, port] of bind) if (server && port != null) ports[key] = await listen(server, port)
      log.info({ ...ports, certificate: current?.summary }, 'mqtt broker listening')
    },
    /**
     * Reads the certificate and key again (after renewal). New connections get
     * the new certificate; open ones keep theirs. A file that cannot be served
     * leaves the current certificate in place. Returns whether it was replaced.
     */
    reloadTls(): boolean {
      if (!tls) {
        log.warn('MQTT TLS is not configured (MQTT_TLS_CERT, MQTT_TLS_KEY); nothing to reload')
        return false
      }
      try {
        serve(loadTls(tls))
      } catch (e) {
        const detail = e instanceof TlsConfigError ? { code: e.code, err: e.message, hint: e.hint } : { err: (e as Error).message }
        log.error(detail, 'mqtt tls reload failed; still serving the previous certificate')
        return false
      }
      log.info({ certificate: current?.summary }, 'mqtt tls certificate reloaded; new connections get it, open ones keep theirs')
      return true
    },
    /**
     * After the broker has closed its clients. What is left on the TLS listeners is
     * a handshake in progress or an idle HTTPS socket; server.close() would wait for them.
     */
    async close() {
      for (const w of webSocketServers) w?.close()
      for (const raw of rawSockets) raw.destroy()
      await Promise.all([tcp, tlsServer, http, https].map((s) => s && new Promise((r) => s.close(r))))
    },
  }
}
export type Listeners = ReturnType<typeof createListeners>
