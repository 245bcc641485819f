import { randomBytes } from 'node:crypto'
import mqtt from 'mqtt'
import { apiProvisioner, fleetSpecs, provisionFleet } from '../../simulators/provision.ts'
import { runLoad } from './load.ts'
import type { OutboxBenchOptions } from './options.ts'
import { flapAlerts } from './outbox-flap.ts'
import { startReceivers } from './outbox-receivers.ts'
import { cpuSeconds, percentile } from './proc.ts'
import { progress } from './progress.ts'
import { startServiceProcess } from './service-process.ts'

/** A: no subscriptions; B: all healthy; C: the same, but subscription 0 points at a black hole. */
export type Variant = 'A' | 'B' | 'C'

/** What one variant measured in one round; delivery figures are null in A (nothing to deliver). */
export interface OutboxRound {
  variant: Variant
  round: number
  position: number
  ingest: { acked: number; deferred: number; perSecond: number; pubackP50: number; pubackP99: number }
  alerts: { transitionsSent: number; events: number | null }
  /** Deliveries to subscriptions 1…N-1: healthy in B and C alike, so B and C compare like for like. */
  delivery: {
    targets: number
    /** What the events asked for: events × targets over the load's seconds. */
    offeredPerS: number
    duringLoadPerS: number
    toDrainPerS: number
    /** From the end of the load to the last delivery, s. */
    drainS: number
    lagP50: number
    lagP99: number
  } | null
  /** Every healthy target (0 too in B): expected = events × targets, each exactly once. */
  exactlyOnce: { expected: number; received: number; missing: number; duplicates: number; outOfOrder: number } | null
  /** C: attempts the black hole took; B: 0. */
  deadAttempts: number | null
  serviceCpuS: number
  subscribeS: number
}

export const OUTBOX_ENV = {
  WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
  // The dead target holds a sender slot for the full timeout on every attempt.
  WEBHOOK_TIMEOUT_MS: '2000',
  OUTBOX_BACKOFF_FIRST_MS: '1000',
  OUTBOX_BACKOFF_MAX_MS: '5000',
}

const DRAIN_TIMEOUT_MS = 180_000
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** One variant, on a fresh service (own data dir and InfluxDB database) and fresh receivers. */
export async function runVariant(o: {
  variant: Variant
  round: number
  position: number
  root: string
  influxUrl: string
  opt: OutboxBenchOptions
  nextTs: () => number
}): Promise<OutboxRound> {
  const { opt, variant } = o
  const token = randomBytes(32).toString('base64url')
  const db = `outbox_${variant.toLowerCase()}_r${o.round}`
  const svc = await startServiceProcess({ root: o.root, influxUrl: o.influxUrl, db, token, env: OUTBOX_ENV })
  const receivers = await startReceivers()
  const clients: mqtt.MqttClient[] = []
  try {
    const api = (path: string, init?: { method: string; body: unknown }) =>
      fetch(`${svc.url}${path}`, {
        method: init?.method ?? 'GET',
        headers: { authorization: `Bearer ${token}`, ...(init ? { 'content-type': 'application/json' } : {}) },
        ...(init ? { body: JSON.stringify(init.body) } : {}),
      })
    const fleet = await provisionFleet(
      fleetSpecs({ bin: opt.devices + opt.alertDevices }, 1, 'bench'),
      apiProvisioner(svc.url, token),
      null,
    )
    const subs = variant === 'A' ? 0 : opt.subscriptions
    const subIds: string[] = []
    const t0 = performance.now()
    for (let n = 0; n < subs; n++) {
      const res = await api('/api/webhooks', {
        method: 'POST',
        body: { url: receivers.urlOf(n, variant === 'C' && n === 0), eventTypes: ['alert.raised', 'alert.cleared'] },
      })
      if (res.status !== 201) throw new Error(`subscribing ${n}: HTTP ${res.status} ${await res.text()}`)
      subIds.push(((await res.json()) as { id: string }).id)
    }
    const subscribeS = (performance.now() - t0) / 1000
    for (const d of fleet)
      clients.push(await mqtt.connectAsync(svc.mqttUrl, { clientId: d.id, username: d.id, password: d.secret, reconnectPeriod: 0 }))
    const topics = fleet.map((d) => `sp/v1/${d.site}/bin/${d.id}/telemetry`)
    const [load, loadTopics] = [clients.slice(0, opt.devices), topics.slice(0, opt.devices)]
    const [flap, flapTopics] = [clients.slice(opt.devices), topics.slice(opt.devices)]

    await runLoad(load, loadTopics, opt.rate / 2, 2, o.nextTs) // warm-up
    const cpu0 = cpuSeconds(svc.pid)
    const loadStart = Date.now()
    const [ingest, flips] = await Promise.all([
      runLoad(load, loadTopics, opt.rate, opt.seconds, o.nextTs),
      flapAlerts(flap, flapTopics, opt.seconds, opt.alertEveryMs),
    ])
    const loadEnd = Date.now()
    const ingestFigures = {
      acked: ingest.acked,
      deferred: ingest.deferred,
      perSecond: ingest.perSecond,
      pubackP50: ingest.p50,
      pubackP99: ingest.p99,
    }
    const base = { variant, round: o.round, position: o.position, ingest: ingestFigures, subscribeS }
    if (subs === 0)
      return {
        ...base,
        alerts: { transitionsSent: flips.transitions, events: null },
        delivery: null,
        exactlyOnce: null,
        deadAttempts: null,
        serviceCpuS: cpuSeconds(svc.pid) - cpu0,
      }

    // The events made: deliveries the outbox stored for one healthy target (the same for each).
    const eventsMade = async () => {
      let n = 0
      let before: number | undefined
      for (;;) {
        const q = new URLSearchParams({ target: subIds[1]!, limit: '1000', ...(before ? { before: String(before) } : {}) })
        const page = (await (await api(`/api/deliveries?${q}`)).json()) as { id: number }[]
        n += page.length
        if (page.length < 1000) return n
        before = page.at(-1)!.id
      }
    }
    const healthy = new Set(Array.from({ length: subs }, (_, n) => n).filter((n) => !(variant === 'C' && n === 0)))
    const common = new Set(Array.from({ length: subs - 1 }, (_, n) => n + 1))
    let events = await eventsMade()
    let stableSince = Date.now()
    const deadline = Date.now() + DRAIN_TIMEOUT_MS
    // Drained: every healthy target has every event, and no new event has appeared for a second.
    while (Date.now() < deadline) {
      await sleep(250)
      const e = await eventsMade()
      if (e !== events) [events, stableSince] = [e, Date.now()]
      if (receivers.tally.minUnique(healthy) >= events && Date.now() - stableSince >= 1000) break
    }
    if (Date.now() >= deadline) progress(`${variant}: not drained within ${DRAIN_TIMEOUT_MS / 1000} s`)
    const serviceCpuS = cpuSeconds(svc.pid) - cpu0
    const all = receivers.tally.window(common)
    const during = receivers.tally.window(common, loadStart, loadEnd)
    const firstAt = flips.firstAtMs ?? loadStart
    const got = receivers.tally.total(healthy)
    return {
      ...base,
      alerts: { transitionsSent: flips.transitions, events },
      delivery: {
        targets: common.size,
        offeredPerS: (events * common.size) / ((loadEnd - loadStart) / 1000),
        duringLoadPerS: during.n / ((loadEnd - loadStart) / 1000),
        toDrainPerS: all.lastMs === null ? 0 : all.n / ((all.lastMs - firstAt) / 1000),
        drainS: all.lastMs === null ? 0 : Math.max(0, all.lastMs - loadEnd) / 1000,
        lagP50: percentile(all.lagMs, 50),
        lagP99: percentile(all.lagMs, 99),
      },
      exactlyOnce: {
        expected: events * healthy.size,
        received: got.unique,
        missing: Math.max(0, events * healthy.size - got.unique),
        duplicates: got.duplicates,
        outOfOrder: got.outOfOrder,
      },
      deadAttempts: variant === 'C' ? receivers.blackHoleAttempts() : 0,
      serviceCpuS,
    }
  } finally {
    await Promise.all(clients.map((c) => c.endAsync()))
    await svc.stop()
    await receivers.close()
  }
}
