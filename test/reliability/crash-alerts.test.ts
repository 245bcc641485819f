import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { MqttClient } from 'mqtt'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { DEVICE_TYPES, evaluateReading, newDeviceRuleState } from '#devices'
import { freePort } from '../../scripts/free-port.ts'
import { createRng } from '../../simulators/rng.ts'
import { type ChildService, spawnService } from '../helpers/child-service.ts'
import { type LoadDevice, provisionBins } from '../helpers/load.ts'
import { connectDevice, countPoints, telemetryTopic, waitFor } from '../helpers/service.ts'

const DEVICES = 30
const PER_DEVICE = 60
const TOTAL = DEVICES * PER_DEVICE
const RATE_PER_S = 300
/** Bursts of RATE_PER_S once a second, as devices waking on a shared schedule send them. */
const TICK_MS = 1000
const BURST = (RATE_PER_S * TICK_MS) / 1000
/** About half: the first PUBACK of a burst, so the kill lands while the rest of that burst is still being taken in. */
const KILL_AT = Math.ceil(TOTAL / 2 / BURST) * BURST + 1

interface BinReading {
  ts: number
  readings: { fillingLevel: number; temperature: number; batteryPct: number; tilted: boolean }
}

const round2 = (x: number) => Math.round(x * 100) / 100

/**
 * Device k's 60 readings: unique increasing device times 20 minutes apart (a bin's interval) over
 * the past day; fill levels that cross the full threshold (≥ 0.95 twice) and clear (< 0.70 twice)
 * again and again, with values in the hysteresis band between; now and then a fire (> 60 °C, a
 * rise of more than 15 °C that stops an hour later), a tilt, and a battery that runs down past
 * 20 % and is replaced.
 */
function scriptOf(k: number, t0: number): BinReading[] {
  const rnd = createRng(7_919 * (k + 1))
  let battery = 30 + (k % 7) * 10
  const out: BinReading[] = []
  for (let j = 0; j < PER_DEVICE; j++) {
    const r = rnd()
    const fillingLevel = r < 0.4 ? round2(0.95 + 0.05 * rnd()) : r < 0.55 ? round2(0.7 + 0.24 * rnd()) : round2(0.69 * rnd())
    const temperature = rnd() < 0.07 ? round2(61 + 30 * rnd()) : round2(8 + 6 * rnd())
    battery = battery < 12 ? 100 : battery - 2
    out.push({ ts: t0 + j * 1_200_000 + k, readings: { fillingLevel, temperature, batteryPct: battery, tilted: rnd() < 0.25 } })
  }
  return out
}

/** A transition as a comparable string: device, rule, action, time, value. */
const transition = (deviceId: string, ruleId: string, action: string, at: string, value: number | null) =>
  `${deviceId}|${ruleId}|${action}|${at}|${value}`

/** The transitions the bin rules give for the script, worked out with the pure rule evaluation. */
function modelTransitions(ids: string[], scripts: BinReading[][]): string[] {
  const out: string[] = []
  for (const [k, id] of ids.entries()) {
    const state = newDeviceRuleState()
    for (const r of scripts[k]!) {
      const at = new Date(r.ts).toISOString()
      // The history keeps the value that cleared an alert, as it keeps the one that raised it.
      for (const tr of evaluateReading(DEVICE_TYPES.bin.rules, DEVICE_TYPES.bin, state, r.ts, r.readings)) {
        out.push(transition(id, tr.rule.id, tr.transition, at, tr.value))
      }
    }
  }
  return out.sort()
}

interface Publisher {
  /** Per device, the indices of the script the broker acknowledged. */
  acked: Set<number>[]
  ackedTotal(): number
  /** Readings handed to the clients so far. */
  sentTotal(): number
  /** Resolves once every queued reading was acknowledged (or `stop` was called). */
  done: Promise<void>
  stop(): void
}

/**
 * Publishes each device's queue in order, QoS 1, round-robin over the devices at `ratePerS` in
 * total; `onAck` sees the running total of acknowledgements.
 */
function publishPaced(
  clients: MqttClient[],
  devices: LoadDevice[],
  scripts: BinReading[][],
  queues: number[][],
  acked: Set<number>[],
  onAck: (total: number) => void = () => {},
): Publisher {
  const next = queues.map(() => 0)
  const pending = queues.reduce((n, q) => n + q.length, 0)
  let total = 0
  let settled = 0
  let stopped = false
  let k = 0
  let owed = 0
  let sent = 0
  let finish = () => {}
  const done = new Promise<void>((r) => {
    finish = r
  })
  if (pending === 0) finish()
  const timer = setInterval(() => {
    owed += BURST
    while (owed >= 1 && !stopped) {
      // The next device that still has something to send.
      let tries = 0
      while (next[k]! >= queues[k]!.length && tries++ < devices.length) k = (k + 1) % devices.length
      if (next[k]! >= queues[k]!.length) {
        clearInterval(timer)
        break
      }
      const dev = k
      const i = queues[dev]![next[dev]!++]!
      owed--
      sent++
      clients[dev]!.publish(telemetryTopic(devices[dev]!), JSON.stringify(scripts[dev]![i]), { qos: 1 }, (err) => {
        settled++
        if (!err) {
          acked[dev]!.add(i)
          onAck(++total)
        }
        if (settled === pending) finish()
      })
      k = (k + 1) % devices.length
    }
  }, TICK_MS)
  return {
    acked,
    ackedTotal: () => total,
    sentTotal: () => sent,
    done,
    stop() {
      stopped = true
      clearInterval(timer)
      finish()
    },
  }
}

interface Outcome {
  transitions: string[]
  /** Alert rows: device, rule, raised time, status, cleared time, value. */
  alerts: string[]
  /** Per device id: its point times and fill levels, in time order. */
  points: Map<string, [number, number][]>
}

describe('kill -9 under load keeps readings and alert transitions exact (issue 3, acceptance 1 with alerts)', () => {
  const influxUrl = inject('influxUrl')
  const token = randomBytes(32).toString('base64url')
  const dirs: string[] = []
  const children: ChildService[] = []
  const clients: MqttClient[] = []
  const t0 = Date.now() - 24 * 3_600_000
  const scripts = Array.from({ length: DEVICES }, (_, k) => scriptOf(k, t0))

  afterAll(async () => {
    for (const c of clients) c.end(true)
    for (const s of children) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL')
    await Promise.all(children.map((s) => s.exited))
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  const spawn = async (dataDir: string, db: string) => {
    const svc = await spawnService({ dataDir, influxUrl, db, token, httpPort: await freePort(), mqttPort: await freePort() })
    children.push(svc)
    return svc
  }

  const connectAll = async (svc: ChildService, devices: LoadDevice[]) => {
    const cs = await Promise.all(devices.map((d) => connectDevice(svc.mqttUrl, d.id, d.secret)))
    for (const c of cs) c.on('error', () => {})
    clients.push(...cs)
    return cs
  }

  /** Waits until every point is in InfluxDB and both the InfluxDB writer and the alert engine have read the whole log. */
  const caughtUp = async (svc: ChildService, db: string) => {
    try {
      await waitFor(async () => (await countPoints(influxUrl, db, 'bin')) >= TOTAL, 30_000, 200)
      await waitFor(
        async () => {
          const r = (await (await fetch(`${svc.url}/ready`)).json()) as { checks: Record<string, { detail?: string }> }
          return r.checks['reader:alerts']?.detail?.startsWith('0 records') && r.checks['reader:influxdb']?.detail?.startsWith('0 records')
        },
        15_000,
        100,
      )
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${svc.output()}`)
    }
  }

  /** Stops the service cleanly, then reads what it stored. */
  const outcome = async (svc: ChildService, dataDir: string, db: string): Promise<Outcome> => {
    svc.child.kill('SIGTERM')
    expect(await svc.exited, svc.output()).toBe(0)
    const sql = new Database(join(dataDir, 'registry.sqlite'), { readonly: true, fileMustExist: true })
    try {
      const history = sql
        .prepare("SELECT device_id, rule_id, action, at, value FROM alert_history WHERE rule_id != 'device-offline'")
        .all() as { device_id: string; rule_id: string; action: string; at: string; value: number | null }[]
      const alerts = sql
        .prepare("SELECT device_id, rule_id, raised_ts, status, cleared_at, value FROM alerts WHERE rule_id != 'device-offline'")
        .all() as { device_id: string; rule_id: string; raised_ts: number; status: string; cleared_at: string | null; value: number }[]
      const q = 'SELECT "fillingLevel" FROM "bin" GROUP BY "device_id"'
      const res = await fetch(`${influxUrl}/query?${new URLSearchParams({ db, q, epoch: 'ms' })}`)
      const body = (await res.json()) as { results: { series?: { tags: { device_id: string }; values: [number, number][] }[] }[] }
      return {
        transitions: history.map((h) => transition(h.device_id, h.rule_id, h.action, h.at, h.value)).sort(),
        alerts: alerts.map((a) => `${a.device_id}|${a.rule_id}|${a.raised_ts}|${a.status}|${a.cleared_at}|${a.value}`).sort(),
        points: new Map((body.results[0]?.series ?? []).map((s) => [s.tags.device_id, s.values])),
      }
    } finally {
      sql.close()
    }
  }

  /** Every reading of the script exactly once: the script's times, each once, with its own value. */
  const expectEveryPointOnce = (o: Outcome, devices: LoadDevice[]) => {
    expect(o.points.size).toBe(DEVICES)
    for (const [k, d] of devices.entries()) {
      const pts = o.points.get(d.id) ?? []
      expect(pts, d.id).toHaveLength(PER_DEVICE)
      expect(new Set(pts.map((p) => p[0])).size, d.id).toBe(PER_DEVICE)
      expect(pts, d.id).toEqual(scripts[k]!.map((r) => [r.ts, r.readings.fillingLevel]))
    }
  }

  it('0 lost, 0 duplicated, and the same alert transitions as the run without the kill', { timeout: 150_000 }, async () => {
    const all = () => scripts.map((s) => s.map((_, i) => i))

    // Run A: the whole script, no kill.
    const dirA = mkdtempSync(join(tmpdir(), 'sp-crash-alerts-a-'))
    dirs.push(dirA)
    const dbA = `crash_alerts_a_${randomBytes(4).toString('hex')}`
    const svcA = await spawn(dirA, dbA)
    const devicesA = await provisionBins(svcA.url, token, DEVICES, 'cab', 'crash-alerts')
    const clientsA = await connectAll(svcA, devicesA)
    const ackedA = scripts.map(() => new Set<number>())
    await publishPaced(clientsA, devicesA, scripts, all(), ackedA).done
    expect(ackedA.reduce((n, s) => n + s.size, 0)).toBe(TOTAL)
    await Promise.all(clientsA.map((c) => c.endAsync()))
    await caughtUp(svcA, dbA)
    const a = await outcome(svcA, dirA, dbA)
    expectEveryPointOnce(a, devicesA)

    // Run A is the reference; check it against the rules so that it is neither empty nor wrong.
    const ids = devicesA.map((d) => d.id)
    expect(a.transitions).toEqual(modelTransitions(ids, scripts))
    // The rules the script exercises; the two that judge a collection schedule need a round, which these bins are not on.
    for (const id of ['bin-full', 'bin-fire', 'bin-knocked-over', 'bin-battery-low']) {
      expect(a.transitions.filter((t) => t.includes(`|${id}|raised|`)).length, id).toBeGreaterThanOrEqual(10)
      expect(a.transitions.filter((t) => t.includes(`|${id}|cleared|`)).length, id).toBeGreaterThanOrEqual(5)
    }
    // The full rule raises and clears repeatedly on one and the same bin.
    expect(ids.some((id) => a.transitions.filter((t) => t.startsWith(`${id}|bin-full|raised|`)).length >= 3)).toBe(true)

    // Run B: the same script, killed with SIGKILL after about half the PUBACKs.
    const dirB = mkdtempSync(join(tmpdir(), 'sp-crash-alerts-b-'))
    dirs.push(dirB)
    const dbB = `crash_alerts_b_${randomBytes(4).toString('hex')}`
    let svcB = await spawn(dirB, dbB)
    const devicesB = await provisionBins(svcB.url, token, DEVICES, 'cab', 'crash-alerts')
    expect(devicesB.map((d) => d.id)).toEqual(ids)
    const clientsB = await connectAll(svcB, devicesB)
    const ackedB = scripts.map(() => new Set<number>())
    const killed = svcB
    let ackedAtKill = -1
    let sentAtKill = -1
    const first = publishPaced(clientsB, devicesB, scripts, all(), ackedB, (total) => {
      if (total === KILL_AT) {
        killed.child.kill('SIGKILL')
        ackedAtKill = total
        sentAtKill = first.sentTotal()
        first.stop()
      }
    })
    await first.done
    expect(await killed.exited).toBeNull()
    expect(killed.child.signalCode).toBe('SIGKILL')
    expect(ackedAtKill).toBe(KILL_AT)
    // Under load: readings were in flight (sent, not yet acknowledged) when the process died.
    expect(sentAtKill).toBeGreaterThan(ackedAtKill)
    // Let each client read what the server wrote before it died (PUBACKs on the wire) before dropping it.
    await waitFor(() => clientsB.every((c) => !c.connected), 5_000)
    for (const c of clientsB) c.end(true)
    // PUBACKs already on the wire when the process died count as acknowledged; the rest is resent.
    const ackedBeforeRestart = ackedB.reduce((n, s) => n + s.size, 0)
    expect(ackedBeforeRestart).toBeGreaterThanOrEqual(KILL_AT)
    expect(ackedBeforeRestart).toBeLessThan(TOTAL)

    svcB = await spawn(dirB, dbB)
    const clientsB2 = await connectAll(svcB, devicesB)
    // As a device would: everything not acknowledged, in order.
    const unacked = scripts.map((s, k) => s.map((_, i) => i).filter((i) => !ackedB[k]!.has(i)))
    const resend = publishPaced(clientsB2, devicesB, scripts, unacked, ackedB)
    await resend.done
    expect(ackedB.every((s) => s.size === PER_DEVICE)).toBe(true)
    await Promise.all(clientsB2.map((c) => c.endAsync()))
    await caughtUp(svcB, dbB)
    const b = await outcome(svcB, dirB, dbB)

    expectEveryPointOnce(b, devicesB)
    expect(b.transitions).toEqual(a.transitions)
    expect(b.alerts).toEqual(a.alerts)
  })
})
