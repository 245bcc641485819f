import type { MqttClient } from 'mqtt'
import { connectDevice, telemetryTopic } from './service.ts'

export interface LoadDevice {
  id: string
  secret: string
  site: string
  type: string
}

export const binReading = (ts: number, fill = 0.3) =>
  JSON.stringify({ ts, readings: { fillingLevel: fill, temperature: 10, batteryPct: 80, tilted: false } })

/** Provisions `n` bins through the API. */
export async function provisionBins(apiUrl: string, token: string, n: number, prefix: string, site = 'load'): Promise<LoadDevice[]> {
  const out: LoadDevice[] = []
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${apiUrl}/api/devices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: `${prefix}-${i}`, type: 'bin', name: `${prefix} ${i}`, site }),
    })
    if (res.status !== 201) throw new Error(`provision: ${res.status} ${await res.text()}`)
    out.push((await res.json()) as LoadDevice)
  }
  return out
}

/**
 * Publishes QoS 1 readings at `ratePerS` in total, round-robin over the devices, each
 * with a unique device time. Counts what was sent and what the broker acknowledged.
 */
export async function steadyLoad(mqttUrl: string, devices: LoadDevice[], ratePerS: number) {
  // Fifty at a time, each given 20 s: hundreds of CONNECTs at once on a 2-core runner busy with other
  // test files can take longer than a device's usual 5 s, and how fast they connect is not what a load measures.
  const clients: MqttClient[] = []
  for (let i = 0; i < devices.length; i += 50)
    clients.push(
      ...(await Promise.all(devices.slice(i, i + 50).map((d) => connectDevice(mqttUrl, d.id, d.secret, { connectTimeout: 20_000 })))),
    )
  const stats = { sent: 0, acked: 0, errors: 0, disconnects: 0, ackedTs: [] as number[] }
  for (const c of clients) c.on('close', () => stats.disconnects++)
  let ts = Date.now() - 600_000
  let i = 0
  const tickMs = 20
  let owed = 0
  // Owed by the clock, not by the tick: on a busy machine timers fire late, and the offered load
  // must still be ratePerS, sent in larger batches.
  let last = performance.now()
  const timer = setInterval(() => {
    const now = performance.now()
    owed += (ratePerS * (now - last)) / 1000
    last = now
    for (; owed >= 1; owed--) {
      const k = i++ % clients.length
      stats.sent++
      const t = ts++
      clients[k]!.publish(telemetryTopic(devices[k]!), binReading(t), { qos: 1 }, (err) => {
        if (err) stats.errors++
        else {
          stats.acked++
          stats.ackedTs.push(t)
        }
      })
    }
  }, tickMs)
  return {
    stats,
    /** Stops sending and waits for outstanding acknowledgements. */
    async stop(waitMs = 10_000) {
      clearInterval(timer)
      const deadline = Date.now() + waitMs
      while (stats.acked + stats.errors < stats.sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    },
    clients,
    async close() {
      await Promise.all(clients.map((c) => c.endAsync(true)))
    },
  }
}
