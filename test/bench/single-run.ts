import type { PrivateInfluxd } from '../../scripts/influxd.ts'
import { settle } from './influx-count.ts'
import { runLoad } from './load.ts'
import type { BenchOptions } from './options.ts'
import type { PathDef } from './paths.ts'
import { progress } from './progress.ts'
import { scaleRun } from './scale.ts'
import { unreadEnv } from './service-process.ts'

export interface SingleRun {
  results: Record<string, unknown>
  rows: [string, string][]
  lost: number
}

/**
 * The phases that only concern this checkout and run once, after the rounds: 2× overload and
 * recovery, the cost of durable accept, drain after an InfluxDB outage, many connected devices.
 * `sustainable` is the median confirmed rate of the rounds.
 */
export async function singleRunPhases(o: {
  ours: PathDef
  root: string
  influxd: PrivateInfluxd
  opt: BenchOptions
  sustainable: number
  nextTs: () => number
}): Promise<SingleRun> {
  const { ours, influxd, opt, sustainable, nextTs } = o
  const results: Record<string, unknown> = {}
  const rows: [string, string][] = []
  const row = (what: string, value: string) => rows.push([what, value])
  const pct = (x: number) => `${((x / sustainable) * 100).toFixed(0)} %`
  const ms = (r: { p50: number; p99: number }) => `${r.p50.toFixed(1)} / ${r.p99.toFixed(1)}`
  let lost = 0

  if (opt.overload > 0) {
    progress('single run: overload')
    const run = await ours.start(influxd.url, 'overload', { devices: opt.devices })
    try {
      const warm = await runLoad(run.clients, run.topics, 500, 2, nextTs)
      const before = (await settle(influxd.url, 'overload', warm.acked)).n
      const offered = Math.round(2 * sustainable)
      // Each device holds at most 200 unacknowledged readings and keeps the rest, as real ones do.
      const over = await runLoad(run.clients, run.topics, offered, opt.overload, nextTs, 20, 200)
      progress('single run: after the overload')
      const after = await runLoad(run.clients, run.topics, 0, Math.min(opt.seconds, 10), nextTs)
      progress('single run: waiting for InfluxDB')
      const acked = over.acked + after.acked
      const stored = (await settle(influxd.url, 'overload', before + acked, 120_000)).n - before
      lost += Math.max(0, acked - stored)
      results.overload = { offered, accepted: over.perSecond, during: over, after, acked, stored, lost: Math.max(0, acked - stored) }
      row(
        `overload: offered ${offered}/s for ${opt.overload} s, accepted readings/s`,
        `${over.perSecond.toFixed(0)} (${pct(over.perSecond)} of sustainable)`,
      )
      row('  publish→PUBACK p50 / p99 during it, ms; readings devices kept back', `${ms(over)}; ${over.deferred}`)
      row('  after the overload, readings/s at max', `${after.perSecond.toFixed(0)} (${pct(after.perSecond)})`)
      row('  acknowledged during/after overload / in InfluxDB', `${acked} / ${stored}`)
    } finally {
      await run.close()
    }
  }

  if (unreadEnv(o.root, ['SPOOL_FSYNC']).length === 0) {
    progress('single run: durable accept off')
    const run = await ours.start(influxd.url, 'nofsync', { devices: opt.devices, env: { SPOOL_FSYNC: 'off' } })
    try {
      const warm = await runLoad(run.clients, run.topics, 500, 2, nextTs)
      const base = (await settle(influxd.url, 'nofsync', warm.acked)).n
      const t0 = Date.now()
      const load = await runLoad(run.clients, run.topics, 0, opt.seconds, nextTs)
      const s = await settle(influxd.url, 'nofsync', base + load.acked)
      const perSecond = (s.n - base) / ((s.at - t0) / 1000)
      results.noFsync = { load, stored: s.n - base, perSecond }
      row(
        'durable accept off: sustained readings/s (cost of fdatasync)',
        `${perSecond.toFixed(0)} (on/off ${(sustainable / perSecond).toFixed(2)}, on = median of the rounds)`,
      )
    } finally {
      await run.close()
    }
  } else {
    row('durable accept off', 'skipped: service/config.ts no longer reads SPOOL_FSYNC')
  }

  if (opt.backlog > 0) {
    progress('single run: drain')
    // A backlog built while InfluxDB is down, then timed into it.
    const run = await ours.start(influxd.url, 'drain', { devices: opt.devices })
    try {
      await influxd.kill()
      let backlog = 0
      while (backlog < opt.backlog) backlog += (await runLoad(run.clients, run.topics, 0, 2, nextTs)).acked
      const t0 = Date.now()
      await influxd.start()
      // The drainer's retry backoff reaches 10 s during an outage: allow for it before calling a stall.
      const drained = (await settle(influxd.url, 'drain', backlog, 300_000, 30_000)).n
      const seconds = (Date.now() - t0) / 1000
      lost += Math.max(0, backlog - drained)
      results.drain = { backlog, drained, seconds, perSecond: drained / seconds }
      row('spool drain after an outage, readings/s', `${(drained / seconds).toFixed(0)} (${drained} in ${seconds.toFixed(1)} s)`)
    } finally {
      await run.close()
    }
  }

  if (opt.scale > 0) {
    progress('single run: scale')
    // Many devices, each its own connection and credentials, on a fresh service.
    const run = await ours.start(influxd.url, 'scale', { devices: 0 })
    try {
      const scale = await scaleRun(run.service!, run.api!.token, opt.scale, 20, opt.scaleSeconds)
      results.scale = scale
      row(`scale: ${scale.devices} devices connected / connect time`, `${scale.connected} / ${scale.connectSeconds.toFixed(1)} s`)
      row(
        '  readings/s, service CPU %, service RSS MiB',
        `${scale.readingsPerSecond.toFixed(0)}, ${scale.cpuPercent.toFixed(0)} %, ${scale.rssMiB.toFixed(0)}`,
      )
    } finally {
      await run.close()
    }
  }
  return { results, rows, lost }
}
