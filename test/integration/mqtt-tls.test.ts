import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { connect as netConnect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../scripts/free-port.ts'
import { parseConfig } from '../../service/config.ts'
import type { ChildService } from '../helpers/child-service.ts'
import { listeningPorts } from '../helpers/listening-ports.ts'
import { binReading, type LoadDevice, provisionBins } from '../helpers/load.ts'
import { mosquittoPub, mosquittoSub } from '../helpers/mosquitto-clients.ts'
import { type PrivateStack, startPrivateStack } from '../helpers/private-stack.ts'
import { countPoints, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'
import { fingerprint, issueServerCert, makeCa, makeKey, type Pem } from '../helpers/test-pki.ts'

const cmdTopic = (d: LoadDevice) => `sp/v1/${d.site}/${d.type}/${d.id}/cmd`

/** The fingerprint of the certificate a new TLS connection is served, verified against `ca`. */
const served = (port: number, ca: Buffer) =>
  new Promise<string>((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, ca }, () => {
      const fp = s.getPeerCertificate().fingerprint256
      s.end()
      resolve(fp)
    })
    s.once('error', reject)
  })

describe('MQTT over TLS and secure WebSocket (issue 8, acceptance 3)', () => {
  const db = 'tls'
  let dir: string
  let stack: PrivateStack
  let svc: ChildService
  let ca: Pem
  let caPem: Buffer
  let first: Pem
  let live: Pem // the paths the service is configured with; renewal replaces the files behind them
  let ports: { tls: number; wss: number }
  let devices: LoadDevice[]
  let t = Date.now() - 600_000
  const reading = () => binReading(t++)

  const install = (pem: Pem) => {
    copyFileSync(pem.cert, live.cert)
    copyFileSync(pem.key, live.key)
  }
  const mosquitto = (d: LoadDevice, cafile: string) => ({ host: '127.0.0.1', port: ports.tls, cafile, id: d.id, secret: d.secret })
  const wss = (d: LoadDevice, trusted: Buffer) =>
    mqtt.connectAsync(`wss://127.0.0.1:${ports.wss}`, {
      clientId: d.id,
      username: d.id,
      password: d.secret,
      ca: trusted,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    })
  const points = (d: LoadDevice) => countPoints(stack.influxd.url, db, 'bin', `"device_id" = '${d.id}'`)
  const landed = (d: LoadDevice, n: number) => waitFor(async () => (await points(d)) >= n, 10_000)
  const refusedHandshakes = async () => {
    const res = await fetch(`${svc.url}/metrics`, { headers: { authorization: `Bearer ${stack.token}` } })
    const m = /sp_mqtt_refused_total\{reason="tls-handshake-failed"\} (\d+)/.exec(await res.text())
    return m ? Number(m[1]) : 0
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sp-tls-'))
    ca = makeCa(dir, 'council')
    caPem = readFileSync(ca.cert)
    first = issueServerCert(dir, ca, 'server-1')
    live = { cert: join(dir, 'live-cert.pem'), key: join(dir, 'live-key.pem') }
    install(first)
    stack = await startPrivateStack('tls')
    ports = { tls: await freePort(), wss: await freePort() }
    svc = await stack.spawn(db, {
      MQTT_PORT: 'off',
      MQTT_TLS_CERT: live.cert,
      MQTT_TLS_KEY: live.key,
      MQTT_TLS_PORT: String(ports.tls),
      MQTT_WSS_PORT: String(ports.wss),
    })
    devices = await provisionBins(svc.url, stack.token, 5, 'tls', 'secure')
  })
  afterAll(async () => {
    await stack?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('with MQTT_PORT=off the process listens for MQTT on the TLS and WSS ports only', () => {
    const http = Number(new URL(svc.url).port)
    expect(listeningPorts(svc.child.pid!)).toEqual([http, ports.tls, ports.wss].sort((a, b) => a - b))
    expect(svc.output()).toContain(`mqtts://127.0.0.1:${ports.tls}`)
    expect(svc.output()).toContain(`wss://127.0.0.1:${ports.wss}`)
    expect(svc.output()).not.toContain('mqtt://')
  })

  it('mosquitto_pub with --cafile delivers a reading that lands; mosquitto_sub is granted its command topic', async () => {
    const [d0, d1] = [devices[0]!, devices[1]!]
    const pub = await mosquittoPub(mosquitto(d0, ca.cert), telemetryTopic(d0), reading())
    expect(pub.code, pub.out).toBe(0)
    await landed(d0, 1)

    const sub = mosquittoSub(mosquitto(d1, ca.cert), cmdTopic(d1), 60)
    try {
      await waitFor(() => sub.output().includes('received SUBACK'), 10_000)
      expect(sub.output()).toMatch(/Subscribed \(mid: \d+\): 1\b/) // granted QoS 1, not 128 (refused)
    } finally {
      sub.stop()
    }
  })

  it('MQTT.js over WSS delivers a reading that lands', async () => {
    const d2 = devices[2]!
    const c = await wss(d2, caPem)
    await c.publishAsync(telemetryTopic(d2), reading(), { qos: 1 })
    await c.endAsync()
    await landed(d2, 1)
  })

  it('a client that does not trust the certificate is refused, over TLS and over WSS', async () => {
    const d3 = devices[3]!
    const rogue = makeCa(dir, 'rogue')
    const before = await refusedHandshakes()
    const pub = await mosquittoPub(mosquitto(d3, rogue.cert), telemetryTopic(d3), reading())
    expect(pub.code).not.toBe(0)
    expect(pub.out).toMatch(/certificate verify failed|TLS error/i)
    await expect(wss(d3, readFileSync(rogue.cert))).rejects.toThrow(/self[- ]signed|unable to (get|verify)|certificate/i)
    expect(await points(d3)).toBe(0)
    // The handshake the broker lost is counted, so an operator sees devices that reject a renewed certificate.
    expect(await refusedHandshakes()).toBeGreaterThan(before)
  })

  it('after the files are replaced and SIGHUP sent, new connections get the new certificate and open ones stay up', {
    timeout: 60_000,
  }, async () => {
    const [d0, d1, d2, d4] = [devices[0]!, devices[1]!, devices[2]!, devices[4]!]
    // Open before the renewal: mosquitto_sub over TLS (pinging every 5 s) and MQTT.js over WSS.
    const sub = mosquittoSub(mosquitto(d1, ca.cert), cmdTopic(d1), 5)
    const old = await wss(d2, caPem)
    let oldClosed = false
    old.on('close', () => {
      oldClosed = true
    })
    try {
      await waitFor(() => sub.output().includes('received SUBACK'), 10_000)
      expect(await served(ports.tls, caPem)).toBe(fingerprint(first.cert))

      const second = issueServerCert(dir, ca, 'server-2')
      install(second)
      const mark = sub.output().length
      svc.child.kill('SIGHUP')

      await waitFor(async () => (await served(ports.tls, caPem)) === fingerprint(second.cert), 5_000)
      expect(await served(ports.wss, caPem)).toBe(fingerprint(second.cert))
      const pub = await mosquittoPub(mosquitto(d0, ca.cert), telemetryTopic(d0), reading())
      expect(pub.code, pub.out).toBe(0)
      const fresh = await wss(d4, caPem)
      await fresh.publishAsync(telemetryTopic(d4), reading(), { qos: 1 })
      await fresh.endAsync()

      // The connections made before the reload carry on: a PUBACK on the old WebSocket, a PINGRESP on
      // mosquitto_sub's first and only connection (it would reconnect, and say so, had it been dropped).
      await waitFor(() => sub.output().slice(mark).includes('received PINGRESP'), 12_000)
      expect(sub.output().match(/received CONNACK/g)).toHaveLength(1)
      expect(oldClosed).toBe(false)
      const acked = old.publishAsync(telemetryTopic(d2), reading(), { qos: 1 }).then(() => true)
      expect(await Promise.race([acked, new Promise((r) => setTimeout(() => r(false), 5_000))])).toBe(true)
      await Promise.all([landed(d0, 2), landed(d2, 2), landed(d4, 1)])
    } finally {
      sub.stop()
      await old.endAsync(true)
    }
  })

  it('a reload with files that cannot be served keeps the current certificate and logs why', async () => {
    const current = await served(ports.tls, caPem)
    copyFileSync(makeKey(dir, 'stray'), live.key) // a key of no certificate, as in a renewal caught half-way
    svc.child.kill('SIGHUP')
    await waitFor(() => svc.output().includes('still serving the previous certificate'), 5_000)
    expect(svc.output()).toMatch(/CONFIG_TLS_INVALID.*does not belong to the certificate/)
    expect(await served(ports.tls, caPem)).toBe(current)
    expect(await served(ports.wss, caPem)).toBe(current)
    const d0 = devices[0]!
    const pub = await mosquittoPub(mosquitto(d0, ca.cert), telemetryTopic(d0), reading())
    expect(pub.code, pub.out).toBe(0)
    expect(svc.child.exitCode).toBeNull()
  })

  it('a certificate file that cannot be read stops the start with CONFIG_TLS_UNREADABLE, the path and what to do', async () => {
    const missing = join(dir, 'no-such-cert.pem')
    await expect(
      stack.spawn('tls-missing', { MQTT_TLS_CERT: missing, MQTT_TLS_KEY: live.key, MQTT_TLS_PORT: '0', MQTT_WSS_PORT: '0' }),
    ).rejects.toThrow(
      /exited with 2[\s\S]*CONFIG_TLS_UNREADABLE: MQTT_TLS_CERT: cannot read \S*no-such-cert\.pem \(ENOENT\)\n\s+Check the path/,
    )
  })
})

describe('the TLS listeners share the admission and packet guard of plain TCP', () => {
  let dir: string
  let svc: TestService
  let caPem: Buffer
  const refused = async (reason: string) => {
    const m = new RegExp(`sp_mqtt_refused_total\\{reason="${reason}"\\} (\\d+)`).exec(await (await svc.api('/metrics')).text())
    return m ? Number(m[1]) : 0
  }
  const open = (port: number) =>
    new Promise<Socket>((resolve, reject) => {
      const s = netConnect(port, '127.0.0.1', () => resolve(s))
      s.once('error', reject)
    })
  const closedWithin = (s: Socket, ms: number) =>
    new Promise<boolean>((resolve) => {
      s.on('error', () => {})
      s.once('close', () => resolve(true))
      setTimeout(() => resolve(false), ms)
    })

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sp-tls-guard-'))
    const ca = makeCa(dir, 'ca')
    const server = issueServerCert(dir, ca, 'server')
    caPem = readFileSync(ca.cert)
    svc = await startService({
      MQTT_TLS_CERT: server.cert,
      MQTT_TLS_KEY: server.key,
      MQTT_TLS_PORT: '0',
      MQTT_WSS_PORT: '0',
      MQTT_MAX_CONNECTIONS_PER_ADDRESS: '2',
      MQTT_MAX_PACKET_BYTES: '1024',
    })
  })
  afterAll(async () => {
    await svc?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('connections count per address across TLS and WSS before any handshake', async () => {
    const { tlsPort, wssPort } = svc.service.broker
    const before = await refused('too-many-connections-from-address')
    // Two sockets that never start a handshake fill the cap of 2.
    const held = [await open(tlsPort!), await open(wssPort!)]
    const third = await open(tlsPort!)
    expect(await closedWithin(third, 2_000)).toBe(true)
    const fourth = await open(wssPort!)
    expect(await closedWithin(fourth, 2_000)).toBe(true)
    expect(await refused('too-many-connections-from-address')).toBe(before + 2)
    for (const s of held) s.destroy()
    await waitFor(async () => (await served(tlsPort!, caPem)).length > 0, 2_000)
  })

  it('an oversize packet over TLS is refused by the packet guard before its body arrives', async () => {
    const before = await refused('packet-too-large')
    const s = tlsConnect({ host: '127.0.0.1', port: svc.service.broker.tlsPort!, ca: caPem })
    await new Promise((r) => s.once('secureConnect', r))
    s.write(Buffer.from([0x10, 0xd0, 0x0f])) // CONNECT declaring 2,000 bytes, over the limit of 1,024
    expect(await closedWithin(s, 2_000)).toBe(true)
    expect(await refused('packet-too-large')).toBe(before + 1)
  })
})

describe('TLS configuration', () => {
  it('MQTT_PORT=off turns plain TCP off; the TLS listeners default to 8883 and 8084', () => {
    const r = parseConfig({ MQTT_PORT: 'off', MQTT_TLS_CERT: '/tls/cert.pem', MQTT_TLS_KEY: '/tls/key.pem' })
    expect(r.ok && r.config).toMatchObject({ MQTT_PORT: null, MQTT_TLS_PORT: 8883, MQTT_WSS_PORT: 8084 })
    const defaults = parseConfig({})
    expect(defaults.ok && defaults.config).toMatchObject({ MQTT_PORT: 1883 })
  })

  it('needs both the certificate and the key, and at least one MQTT listener', () => {
    const paths = (r: ReturnType<typeof parseConfig>) => (r.ok ? [] : r.errors.map((e) => e.split(':')[0]))
    expect(paths(parseConfig({ MQTT_TLS_CERT: '/tls/cert.pem' }))).toEqual(['MQTT_TLS_KEY'])
    expect(paths(parseConfig({ MQTT_TLS_KEY: '/tls/key.pem' }))).toEqual(['MQTT_TLS_CERT'])
    expect(paths(parseConfig({ MQTT_PORT: 'off', MQTT_WS_PORT: 'off' }))).toEqual(['MQTT_PORT'])
    const tls = { MQTT_TLS_CERT: '/c', MQTT_TLS_KEY: '/k' }
    expect(paths(parseConfig({ MQTT_AUTH: 'off', MQTT_HOST: '127.0.0.1', MQTT_WS_PORT: 'off', ...tls }))).toEqual(['MQTT_WSS_PORT'])
    expect(paths(parseConfig({ MQTT_AUTH: 'off', MQTT_HOST: '127.0.0.1', MQTT_WS_PORT: 'off', MQTT_WSS_PORT: 'off', ...tls }))).toEqual([])
  })
})
