import mqtt, { type MqttClient } from 'mqtt'
import { buildTopic, type DeviceType, deviceTypeOf } from '#devices'
import { PROFILES, type Profile } from './profiles/index.ts'
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
  /** Overrides the device type's reporting interval, in simulated seconds. */
  intervalS?: number
  now?: () => number
}

export interface FleetStats {
  connected: number
  sent: number
  acked: number
  errors: number
}

export interface Fleet {
  start(): Promise<void>
  close(): Promise<void>
  readonly stats: FleetStats
}

/** One MQTT connection per device, each with its own credentials. */
export function createFleet(opts: FleetOptions): Fleet {
  const now = opts.now ?? Date.now
  const stats: FleetStats = { connected: 0, sent: 0, acked: 0, errors: 0 }
  const realStart = now()
  const simTime = () => realStart + (now() - realStart) * opts.speed
  const clients: MqttClient[] = []
  const timers: NodeJS.Timeout[] = []

  const run = (d: SimDevice) => {
    const rng = createRng(seedFor(opts.seed, d.id))
    const profile: Profile = PROFILES[d.type](rng, simTime())
    const statusTopic = buildTopic({ site: d.site, type: d.type, deviceId: d.id, channel: 'status' })
    const telemetry = buildTopic({ site: d.site, type: d.type, deviceId: d.id, channel: 'telemetry' })
    const client = mqtt.connect(opts.url, {
      clientId: d.id,
      username: d.id,
      password: d.secret,
      clean: true,
      keepalive: 60,
      // Jittered so a broker restart does not meet the whole fleet in the same second.
      reconnectPeriod: Math.round(between(rng, 1_000, 5_000)),
      connectTimeout: 10_000,
      will: { topic: statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
    })
    clients.push(client)
    let seq = 0
    const publish = () => {
      if (!client.connected) return
      const body = JSON.stringify({ ts: now(), seq: seq++, readings: profile(simTime()) })
      stats.sent++
      client.publish(telemetry, body, { qos: 1 }, (err) => {
        if (err) stats.errors++
        else stats.acked++
      })
    }
    client.on('connect', () => {
      stats.connected++
      client.publish(statusTopic, 'online', { qos: 1, retain: true })
    })
    client.on('close', () => {
      if (client.connected === false && stats.connected > 0) stats.connected--
    })
    client.on('error', () => {
      stats.errors++
    })
    const intervalMs = ((opts.intervalS ?? deviceTypeOf(d.type)!.defaultIntervalS) * 1000) / opts.speed
    const first = setTimeout(
      () => {
        publish()
        timers.push(setInterval(publish, Math.max(10, intervalMs)))
      },
      Math.round(between(rng, 0, Math.min(1_000, intervalMs))),
    )
    timers.push(first)
    return new Promise<void>((resolve) => {
      client.once('connect', () => resolve())
    })
  }

  return {
    stats,
    async start() {
      await Promise.all(opts.devices.map(run))
    },
    async close() {
      for (const t of timers) clearTimeout(t)
      await Promise.all(clients.map((c) => c.endAsync()))
    },
  }
}
