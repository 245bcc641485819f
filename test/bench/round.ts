import { loadavg } from 'node:os'
import { settle } from './influx-count.ts'
import { alertLatency, visibleLatency } from './latency.ts'
import { runLoad } from './load.ts'
import { FIXED_RATE } from './options.ts'
import type { PathDef } from './paths.ts'
import { cpuSeconds } from './proc.ts'

/** What one path measured in one round; null where the path cannot measure it (the peer has no alerts). */
export interface PathRound {
  path: string
  round: number
  /** Place in this round's order, from 0. */
  position: number
  /** 1-minute load average when the path started: the host's noise, for reading the spread. */
  load1: number
  max: { accepted: number; confirmed: number; acked: number; stored: number; lost: number; pubackP50: number; pubackP99: number }
  fixed: {
    rate: number
    /** Readings/s the path acknowledged of the fixed load (without the probes). */
    accepted: number
    pubackP50: number
    pubackP99: number
    visibleP50: number
    visibleP99: number
    visibleSamples: number
    alertP50: number | null
    alertP99: number | null
    /** Alerts received of transitions sent: a missing alert is not in the p99. */
    alertSamples: number | null
    alertSent: number | null
    cpuPer1000: number
    acked: number
    stored: number
    lost: number
  }
  lost: number
}

const sumCpu = (pids: number[]) => pids.reduce((a, p) => a + cpuSeconds(p), 0)

/**
 * One path, started fresh: a 2 s warm-up, the highest rate confirmed in InfluxDB (closed
 * loop), then the fixed rate with latency probes on two of the connections.
 */
export async function measurePath(o: {
  path: PathDef
  influxUrl: string
  db: string
  round: number
  position: number
  seconds: number
  devices: number
  nextTs: () => number
}): Promise<PathRound> {
  const load1 = loadavg()[0]!
  const run = await o.path.start(o.influxUrl, o.db, { devices: o.devices })
  try {
    const warm = await runLoad(run.clients, run.topics, 500, 2, o.nextTs)
    const base = (await settle(o.influxUrl, o.db, warm.acked)).n

    // Max: from the first publish to the last reading confirmed in InfluxDB.
    const t0 = Date.now()
    const max = await runLoad(run.clients, run.topics, 0, o.seconds, o.nextTs)
    const afterMax = await settle(o.influxUrl, o.db, base + max.acked)
    const maxStored = afterMax.n - base

    // Fixed rate: the load on all but two connections, which carry the probes.
    const cpu0 = sumCpu(run.pids)
    const [fixed, alerts, visible] = await Promise.all([
      runLoad(run.clients.slice(2), run.topics.slice(2), FIXED_RATE, o.seconds, o.nextTs),
      run.api
        ? alertLatency({ ...run.api, client: run.clients[0]!, topic: run.topics[0]!, seconds: o.seconds, everyMs: 50 })
        : Promise.resolve(null),
      visibleLatency({
        influxUrl: o.influxUrl,
        db: o.db,
        client: run.clients[1]!,
        topic: run.topics[1]!,
        deviceId: run.ids[1]!,
        seconds: o.seconds,
        everyMs: 250,
      }),
    ])
    const cpu = sumCpu(run.pids) - cpu0
    const fixedAcked = fixed.acked + (alerts?.acked ?? 0) + visible.acked
    const fixedStored = (await settle(o.influxUrl, o.db, afterMax.n + fixedAcked)).n - afterMax.n
    const maxLost = Math.max(0, max.acked - maxStored)
    const fixedLost = Math.max(0, fixedAcked - fixedStored)
    return {
      path: o.path.name,
      round: o.round,
      position: o.position,
      load1,
      max: {
        accepted: max.perSecond,
        confirmed: maxStored / ((afterMax.at - t0) / 1000),
        acked: max.acked,
        stored: maxStored,
        lost: maxLost,
        pubackP50: max.p50,
        pubackP99: max.p99,
      },
      fixed: {
        rate: FIXED_RATE,
        accepted: fixed.acked / o.seconds,
        pubackP50: fixed.p50,
        pubackP99: fixed.p99,
        visibleP50: visible.p50,
        visibleP99: visible.p99,
        visibleSamples: visible.samples,
        alertP50: alerts ? alerts.p50 : null,
        alertP99: alerts ? alerts.p99 : null,
        alertSamples: alerts ? alerts.samples : null,
        alertSent: alerts ? alerts.sent : null,
        // Probes are readings too: the CPU they cost is divided over them as well.
        cpuPer1000: (cpu / fixedAcked) * 1000,
        acked: fixedAcked,
        stored: fixedStored,
        lost: fixedLost,
      },
      lost: maxLost + fixedLost,
    }
  } finally {
    await run.close()
  }
}
