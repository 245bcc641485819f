import type { MqttClient } from 'mqtt'

export interface FlapResult {
  /** Readings published that make a transition (bin-knocked-over raised or cleared). */
  transitions: number
  /** When the first of them was published (epoch ms); null when none was. */
  firstAtMs: number | null
  acked: number
  sent: number
}

/**
 * Bins that tip over and stand up again: tilted, tilted, upright, again and again, so two readings
 * in three are a transition (bin-knocked-over raises on the second tilted reading, clears on the
 * first upright one; see latency.ts). Each transition is an alert.raised or alert.cleared event,
 * and so one delivery per subscription. The bins start a fraction of the interval apart.
 */
export async function flapAlerts(clients: MqttClient[], topics: string[], seconds: number, everyMs: number): Promise<FlapResult> {
  let transitions = 0
  let firstAtMs: number | null = null
  let acked = 0
  let sent = 0
  const end = Date.now() + seconds * 1000
  await Promise.all(
    clients.map(async (client, i) => {
      await new Promise((r) => setTimeout(r, (everyMs * i) / clients.length))
      let step = 0
      let ts = 0
      const pending: Promise<void>[] = []
      while (Date.now() < end) {
        ts = Math.max(Date.now(), ts + 1)
        const tilted = step % 3 !== 2
        if (step % 3 !== 0) {
          transitions++
          firstAtMs ??= ts
        }
        step++
        sent++
        const body = JSON.stringify({ ts, readings: { fillingLevel: 0.3, temperature: 12, batteryPct: 90, tilted } })
        pending.push(
          new Promise<void>((resolve) =>
            client.publish(topics[i]!, body, { qos: 1 }, (err) => {
              if (!err) acked++
              resolve()
            }),
          ),
        )
        await new Promise((r) => setTimeout(r, everyMs))
      }
      await Promise.all(pending)
    }),
  )
  return { transitions, firstAtMs, acked, sent }
}
