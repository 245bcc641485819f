import type { MqttClient } from 'mqtt'
import { io } from 'socket.io-client'
import type { Alert } from '#devices'
import { percentile } from './proc.ts'

/**
 * publish → alert received over Socket.IO: one bin reads tilted, tilted, upright, again and again,
 * so two readings in three are a transition (bin-knocked-over raises on the second tilted reading
 * and clears on the first upright one, in the old catalogue and the new). The whole catalogue still
 * runs on every reading. Not bin-fire (a rise clears an hour after it stops) nor the battery (now a
 * forecast): neither can flap.
 */
export async function alertLatency(o: {
  apiUrl: string
  token: string
  client: MqttClient
  topic: string
  seconds: number
  everyMs: number
}) {
  const socket = io(o.apiUrl, { auth: { token: o.token }, transports: ['websocket'] })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('connect_error', reject)
  })
  const sentAt = new Map<number, number>()
  const latencies: number[] = []
  const onAlert = (a: Alert) => {
    const t = sentAt.get(Date.parse(a.clearedAt ?? a.raisedAt))
    if (t !== undefined) latencies.push(performance.now() - t)
  }
  socket.on('alert:raised', onAlert)
  socket.on('alert:cleared', onAlert)
  // Acknowledged probes count towards what must reach InfluxDB.
  let acked = 0
  const end = Date.now() + o.seconds * 1000
  let step = 0
  let ts = Date.now()
  while (Date.now() < end) {
    ts = Math.max(Date.now(), ts + 1)
    // Only readings that make a transition are expected to bring an alert: the second tilted one raises, the upright one clears.
    if (step % 3 !== 0) sentAt.set(ts, performance.now())
    const tilted = step % 3 !== 2
    step++
    o.client.publish(
      o.topic,
      JSON.stringify({ ts, readings: { fillingLevel: 0.3, temperature: 12, batteryPct: 90, tilted } }),
      { qos: 1 },
      (err) => {
        if (!err) acked++
      },
    )
    await new Promise((r) => setTimeout(r, o.everyMs))
  }
  await new Promise((r) => setTimeout(r, 500))
  socket.close()
  return { samples: latencies.length, sent: sentAt.size, acked, p50: percentile(latencies, 50), p99: percentile(latencies, 99) }
}

/**
 * publish → visible in InfluxDB: after a PUBACK for a sampled reading, poll InfluxDB
 * for that exact point.
 */
export async function visibleLatency(o: {
  influxUrl: string
  db: string
  client: MqttClient
  topic: string
  deviceId: string
  seconds: number
  everyMs: number
}) {
  const latencies: number[] = []
  let acked = 0
  const end = Date.now() + o.seconds * 1000
  let ts = Date.now()
  const probes: Promise<void>[] = []
  while (Date.now() < end) {
    ts = Math.max(Date.now(), ts + 1)
    const at = ts
    const t0 = performance.now()
    o.client.publish(
      o.topic,
      JSON.stringify({ ts: at, readings: { fillingLevel: 0.5, temperature: 10, batteryPct: 90, tilted: false } }),
      { qos: 1 },
      (err) => {
        if (!err) acked++
      },
    )
    probes.push(
      (async () => {
        const q = `SELECT count("fillingLevel") FROM "bin" WHERE "device_id" = '${o.deviceId}' AND time = ${at}ms`
        const deadline = Date.now() + 10_000
        while (Date.now() < deadline) {
          const res = await fetch(`${o.influxUrl}/query?${new URLSearchParams({ db: o.db, q })}`)
          const body = (await res.json()) as { results: { series?: unknown[] }[] }
          if (body.results[0]?.series?.length) {
            latencies.push(performance.now() - t0)
            return
          }
          await new Promise((r) => setTimeout(r, 5))
        }
      })(),
    )
    await new Promise((r) => setTimeout(r, o.everyMs))
  }
  await Promise.all(probes)
  return { samples: latencies.length, sent: probes.length, acked, p50: percentile(latencies, 50), p99: percentile(latencies, 99) }
}
