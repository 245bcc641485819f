import type { MqttClient } from 'mqtt'
import { percentile } from './proc.ts'

export interface LoadResult {
  acked: number
  seconds: number
  perSecond: number
  p50: number
  p99: number
}

/**
 * QoS 1 publishes over the given clients: at `rate` readings/s in total, open loop
 * (whether or not acknowledgements keep up), or (rate 0) as fast as
 * acknowledgements allow with `window` messages in flight per client.
 * Every reading has its own device time, so each is its own point.
 */
export async function runLoad(
  clients: MqttClient[],
  topics: string[],
  rate: number,
  seconds: number,
  nextTs: () => number,
  window = 20,
  onTick?: (acked: number) => void,
): Promise<LoadResult> {
  const latencies: number[] = []
  let acked = 0
  const started = Date.now()
  const end = started + seconds * 1000
  const send = (i: number) =>
    new Promise<void>((resolve) => {
      const t = performance.now()
      const body = `{"ts":${nextTs()},"readings":{"fillingLevel":0.42,"temperature":11.5,"batteryPct":80,"tilted":false}}`
      clients[i]!.publish(topics[i]!, body, { qos: 1 }, (err) => {
        if (!err) {
          latencies.push(performance.now() - t)
          acked++
        }
        resolve()
      })
    })
  if (rate === 0) {
    await Promise.all(
      clients.map(async (_c, i) => {
        const inflight = new Set<Promise<void>>()
        while (Date.now() < end) {
          const p: Promise<void> = send(i).then(() => {
            inflight.delete(p)
          })
          inflight.add(p)
          if (inflight.size >= window) await Promise.race(inflight)
        }
        await Promise.all(inflight)
      }),
    )
  } else {
    const tickMs = 5
    let owed = 0
    let i = 0
    let last = performance.now()
    const pending: Promise<void>[] = []
    while (Date.now() < end) {
      const now = performance.now()
      owed += ((now - last) * rate) / 1000
      last = now
      for (; owed >= 1; owed--) pending.push(send(i++ % clients.length))
      onTick?.(acked)
      await new Promise((r) => setTimeout(r, tickMs))
    }
    await Promise.all(pending)
  }
  const took = (Date.now() - started) / 1000
  return { acked, seconds: took, perSecond: acked / took, p50: percentile(latencies, 50), p99: percentile(latencies, 99) }
}
