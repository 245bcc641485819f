import mqtt, { type MqttClient } from 'mqtt'
import { buildTopic, type DeviceType } from '#devices'
import { createModel, type DeviceModel } from './models/index.ts'
import { encodeReading, type PayloadFormat } from './payload.ts'
import { between, createRng, seedFor } from './rng.ts'

export interface SimDevice {
  id: string
  secret: string
  type: DeviceType
  site: string
}

export interface FleetOptions {
  url: string
  devices: SimDevice[]
  /** Simulated seconds per real second. */
  speed: number
  seed: number
  /** Overrides every type's reporting interval, in simulated seconds. */
  intervalS?: number
  format?: PayloadFormat
  /** Connections opened at once while the fleet starts, so a big fleet does not arrive in one burst. */
  connectConcurrency?: number
  now?: () => number
}

export interface FleetStats {
  connected: number
  sent: number
  acked: number
  errors: number
  reconnects: number
}

export interface Fleet {
  start(): Promise<void>
  close(): Promise<void>
  readonly stats: FleetStats
}

interface Running {
  device: SimDevice
  client: MqttClient
  model: DeviceModel
  topic: string
  seq: number
  lastTs: number
  /** Next simulated time this device's model is ticked. */
  nextTick: number
  step: number
}

const TICKS_PER_INTERVAL = 4
const BACKOFF_BASE_MS = 500
const BACKOFF_MAX_MS = 60_000

/**
 * One MQTT connection per device, each with its own credentials. One scheduler
 * drives every model, so 10,000 devices cost one timer, not 10,000.
 */
export function createFleet(opts: FleetOptions): Fleet {
  const now = opts.now ?? Date.now
  const stats: FleetStats = { connected: 0, sent: 0, acked: 0, errors: 0, reconnects: 0 }
  const realStart = now()
  const simTime = () => realStart + (now() - realStart) * opts.speed
  const running: Running[] = []
  let timer: NodeJS.Timeout | null = null
  let closing = false

  const publish = (r: Running, readings: Record<string, unknown> | undefined, raw: string | undefined) => {
    if (!r.client.connected) return
    // Device clocks are real time; strictly increasing so that no two readings of a device share a time.
    const ts = Math.max(now(), r.lastTs + 1)
    r.lastTs = ts
    const body = raw ?? encodeReading(opts.format ?? 'json', r.device.type, r.device.id, ts, r.seq++, readings ?? {})
    stats.sent++
    r.client.publish(r.topic, body, { qos: 1 }, (err) => {
      if (err) stats.errors++
      else stats.acked++
    })
  }

  const connect = (d: SimDevice) => {
    const rng = createRng(seedFor(opts.seed, d.id))
    const start = simTime()
    const model = createModel(d.type, rng, start, opts.intervalS ? { intervalMs: opts.intervalS * 1000 } : {})
    const statusTopic = buildTopic({ site: d.site, type: d.type, deviceId: d.id, channel: 'status' })
    const client = mqtt.connect(opts.url, {
      clientId: d.id,
      username: d.id,
      // Empty for a broker without device credentials (a plain Mosquitto, say).
      ...(d.secret ? { password: d.secret } : {}),
      clean: true,
      keepalive: 60,
      reconnectPeriod: 0, // our own backoff below
      connectTimeout: 15_000,
      will: { topic: statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
    })
    const step = model.intervalMs / TICKS_PER_INTERVAL
    const r: Running = {
      device: d,
      client,
      model,
      topic: buildTopic({ site: d.site, type: d.type, deviceId: d.id, channel: 'telemetry' }),
      seq: 0,
      lastTs: 0,
      nextTick: start,
      step,
    }
    running.push(r)
    let attempt = 0
    let up = false
    client.on('connect', () => {
      attempt = 0
      up = true
      stats.connected++
      client.publish(statusTopic, 'online', { qos: 1, retain: true })
    })
    client.on('close', () => {
      if (up) stats.connected--
      up = false
      if (closing) return
      // Exponential backoff with full jitter: a restarted broker is not met by the whole fleet at once.
      const delay = between(rng, 0, Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt++))
      setTimeout(() => {
        if (closing) return
        stats.reconnects++
        client.reconnect()
      }, delay).unref()
    })
    client.on('error', () => {
      stats.errors++
    })
    return new Promise<void>((resolve) => {
      client.once('connect', () => resolve())
      client.once('close', () => resolve())
    })
  }

  const loop = () => {
    const t = simTime()
    for (const r of running) {
      while (r.nextTick <= t) {
        const e = r.model.tick(r.nextTick)
        r.nextTick += r.step
        if (e) publish(r, e.readings, e.raw)
      }
    }
  }

  return {
    stats,
    async start() {
      const queue = [...opts.devices]
      const workers = Array.from({ length: Math.min(queue.length, opts.connectConcurrency ?? 200) }, async () => {
        for (let d = queue.shift(); d; d = queue.shift()) await connect(d)
      })
      await Promise.all(workers)
      timer = setInterval(loop, 50)
    },
    async close() {
      closing = true
      if (timer) clearInterval(timer)
      await Promise.all(running.map((r) => r.client.endAsync()))
    },
  }
}
