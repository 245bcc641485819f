import { appendFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import type { Device } from '#devices'
import { type Broker, type BrokerConfig, createBroker } from '../../broker/broker.ts'
import { brokerMetrics } from '../../broker/metrics.ts'
import { inProcessLogFile } from './log-capture.ts'

export interface TestBroker {
  broker: Broker
  /** Every line the broker logged, parsed. */
  logs: Record<string, unknown>[]
  /** Readings that reached the ingest callback. */
  telemetry: { deviceId: string; payload: string }[]
  /** The value of sp_mqtt_refused_total for `reason` (0 when never counted). */
  refused(reason: string): Promise<number>
  /** sp_mqtt_refused_total over all reasons. */
  refusedTotal(): Promise<number>
  /** The value of a counter series, by its one label. */
  counter(name: string, label: string, value: string): Promise<number>
  addDevice(id: string, secret: string): Device
  close(): Promise<void>
}

/**
 * The broker alone, on free TCP and WebSocket ports, with devices in memory: fast
 * to start, and its log and metrics are at hand. The full service (startService)
 * is for tests where a reading must land in InfluxDB.
 */
export async function startTestBroker(config: Partial<BrokerConfig> = {}): Promise<TestBroker> {
  const register = new Registry()
  const logs: Record<string, unknown>[] = []
  // Under `npm test` every line also goes to the log dir, for the leak check (test/log-check/); synchronously, as testLogger's.
  const logFile = inProcessLogFile('broker')
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (logFile) appendFileSync(logFile, chunk)
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>)
      cb()
    },
  })
  const devices = new Map<string, { secret: string; device: Device }>()
  const telemetry: TestBroker['telemetry'] = []
  const broker = await createBroker({
    config: {
      host: '127.0.0.1',
      port: 0,
      wsPort: 0,
      tls: null,
      maxPacketBytes: 64 * 1024,
      maxConnections: 10_000,
      maxConnectionsPerAddress: 0,
      deviceRatePerS: 0,
      deviceBurst: 1,
      auth: true,
      keepaliveLimitS: 3600,
      keepaliveZero: true,
      connectTimeoutMs: 2_000,
      authBrake: { freeFailures: 5, maxDelayMs: 10_000, forgetMs: 900_000 },
      trustedAddresses: new Set<string>(),
      ...config,
    },
    log: pino({ level: 'debug' }, sink),
    metrics: brokerMetrics(register),
    authenticate: async (id, secret) => {
      const d = devices.get(id)
      return d && d.secret === secret ? d.device : null
    },
    onPresence: () => {},
    onTelemetry: (device, _parts, payload, done) => {
      telemetry.push({ deviceId: device.id, payload: payload.toString('utf8') })
      done(null)
    },
  })
  await broker.start()

  const counter = async (name: string, label: string, value: string) => {
    const m = register.getSingleMetric(name)
    if (!m) return 0
    const { values } = await m.get()
    return values.find((v) => v.labels[label] === value)?.value ?? 0
  }
  return {
    broker,
    logs,
    telemetry,
    refused: (reason) => counter('sp_mqtt_refused_total', 'reason', reason),
    async refusedTotal() {
      const { values } = (await register.getSingleMetric('sp_mqtt_refused_total')?.get()) ?? { values: [] }
      return values.reduce((sum, v) => sum + v.value, 0)
    },
    counter,
    addDevice(id, secret) {
      const device: Device = {
        id,
        type: 'bin',
        name: id,
        site: 'conf',
        latitude: null,
        longitude: null,
        uprn: null,
        intervalS: 600,
        createdAt: new Date().toISOString(),
        presence: 'unknown',
        lastSeen: null,
      }
      devices.set(id, { secret, device })
      return device
    },
    close: () => broker.close(),
  }
}
