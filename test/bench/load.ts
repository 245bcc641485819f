import type { MqttClient } from 'mqtt'
import { percentile } from './proc.ts'

export interface LoadResult {
  acked: number
  /** Open loop: readings a device had to keep because its in-flight window was full (back-pressure). */
  deferred: number
  seconds: number
  perSecond: number
  p50: number
  p99: number
}

/**
 * QoS 1 publishes over the given clients: at `rate` readings/s in total, open loop
 * (whether or not acknowledgements keep up; like a real device, a client with
 * `openWindow` messages unacknowledged keeps further readings instead of sending
 * them, counted as deferred), or (rate 0) as fast as acknowledgements allow with
 * `window` messages in flight per client.
 * Every reading has its own device time, so each is its own point.
 */
export async function runLoad(
  clients: MqttClient[],
  topics: string[],
  rate: number,
  seconds: number,
  nextTs: () => number,
  window = 20,
  openWindow = Number.POSITIVE_INFINITY,
): Promise<LoadResult> {
  // A bounded reservoir of latencies: a 60 s overload acknowledges millions of readings.
  const latencies: number[] = []
  const RESERVOIR = 100_000
  let seen = 0
  const record = (ms: number) => {
    seen++
    if (latencies.length < RESERVOIR) latencies.push(ms)
    else {
      const j = Math.floor(Math.random() * seen)
      if (j < RESERVOIR) latencies[j] = ms
    }
  }
  let acked = 0
  let deferred = 0
  const inflightOf = new Array<number>(clients.length).fill(0)
  const started = Date.now()
  const end = started + seconds * 1000
  const send = (i: number) =>
    new Promise<void>((resolve) => {
      const t = performance.now()
      inflightOf[i]!++
      const body = `{"ts":${nextTs()},"readings":{"fillingLevel":0.42,"temperature":11.5,"batteryPct":80,"tilted":false}}`
      clients[i]!.publish(topics[i]!, body, { qos: 1 }, (err) => {
        inflightOf[i]!--
        if (!err) {
          record(performance.now() - t)
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
    let outstanding = 0
    const sendCounted = (k: number) => {
      outstanding++
      void send(k).then(() => {
        outstanding--
      })
    }
    while (Date.now() < end) {
      const now = performance.now()
      owed += ((now - last) * rate) / 1000
      last = now
      for (; owed >= 1; owed--) {
        const k = i++ % clients.length
        if (inflightOf[k]! >= openWindow) deferred++
        else sendCounted(k)
      }
      await new Promise((r) => setTimeout(r, tickMs))
    }
    // Wait for the acknowledgements still due (bounded: a lost connection must not hang the run).
    const deadline = Date.now() + 30_000
    while (outstanding > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  }
  const took = (Date.now() - started) / 1000
  return { acked, deferred, seconds: took, perSecond: acked / took, p50: percentile(latencies, 50), p99: percentile(latencies, 99) }
}
