import { randomBytes } from 'node:crypto'
import { readdirSync, statSync, truncateSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort } from '../../scripts/free-port.ts'
import { type PrivateInfluxd, startInfluxd } from '../../scripts/influxd.ts'
import { type ChildService, spawnService } from '../helpers/child-service.ts'
import { binReading, type LoadDevice, provisionBins } from '../helpers/load.ts'
import { connectDevice, telemetryTopic, waitFor } from '../helpers/service.ts'
import { fillUntilFull, mountTmpfs, type Tmpfs, tmpfsUnavailable, writeBallast } from '../helpers/tmpfs.ts'

const MiB = 1024 * 1024
const VOLUME_MIB = 24
const MIN_FREE_MIB = 2
/** Room left for the log in phase 1 above DATA_MIN_FREE_MB: some 15,000 readings, few enough to fill in seconds. */
const FILL_ROOM_MIB = 4
const DEVICES = 16
/** QoS 1 publishes each device keeps in flight. */
const WINDOW = 32
const DB = 'diskfull'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// Decided at collection time, so that a skip shows its reason in the report.
const unavailable = tmpfsUnavailable()

interface Ready {
  status: number
  body: { status: string; checks: Record<string, { ok: boolean; detail?: string }> }
}

/**
 * Devices that behave like real ones: QoS 1, a unique device time per reading, and a
 * reading without a PUBACK is kept and sent again after reconnecting (the broker closes
 * the connection when it cannot store a reading). Only PUBACKed times count as acknowledged.
 */
function startFleet(mqttUrl: string, devices: LoadDevice[]) {
  const fleet = {
    running: true,
    nextTs: Date.now() - 3_600_000,
    sent: new Set<number>(),
    acked: new Set<number>(),
    lastAckAt: Date.now(),
    connects: 0,
    lostWithConnection: 0,
  }
  const clients = new Set<MqttClient>()

  const runDevice = async (d: LoadDevice) => {
    const topic = telemetryTopic(d)
    const retry: number[] = []
    while (fleet.running) {
      let client: MqttClient
      try {
        client = await connectDevice(mqttUrl, d.id, d.secret, { reconnectPeriod: 0, connectTimeout: 3_000 })
      } catch {
        await sleep(200)
        continue
      }
      fleet.connects++
      clients.add(client)
      client.on('error', () => {})
      await new Promise<void>((resolve) => {
        // This connection's unacknowledged publishes; a late callback of a closed connection finds nothing here.
        const inflight = new Set<number>()
        let open = true
        const finish = () => {
          if (!open) return
          open = false
          fleet.lostWithConnection += inflight.size
          retry.unshift(...inflight)
          inflight.clear()
          resolve()
        }
        client.once('close', finish)
        const pump = () => {
          while (open && fleet.running && inflight.size < WINDOW) {
            const t = retry.shift() ?? fleet.nextTs++
            inflight.add(t)
            fleet.sent.add(t)
            client.publish(topic, binReading(t, fill(t)), { qos: 1 }, (err) => {
              if (!inflight.delete(t)) return
              if (err) retry.push(t)
              else {
                fleet.acked.add(t)
                fleet.lastAckAt = Date.now()
              }
              pump()
            })
          }
          if (open && !fleet.running && inflight.size === 0) finish()
        }
        pump()
      })
      clients.delete(client)
      client.end(true)
      if (fleet.running) await sleep(100)
    }
  }
  const loops = devices.map(runDevice)
  return {
    fleet,
    /** Stops publishing: waits up to `waitMs` for outstanding PUBACKs, then drops the connections. */
    async stop(waitMs = 5_000) {
      fleet.running = false
      await Promise.race([Promise.all(loops), sleep(waitMs)])
      for (const c of clients) c.end(true)
      await Promise.all(loops)
    },
  }
}

/** Each reading's fill level follows from its time, so a stored point can be checked against what was sent. */
const fill = (ts: number) => (ts % 60) / 100

describe('disk full, for real (small filesystem as DATA_DIR, InfluxDB stopped)', () => {
  let volume: Tmpfs | null = null
  let influxd: PrivateInfluxd | null = null
  let svc: ChildService | null = null
  let load: ReturnType<typeof startFleet> | null = null

  afterAll(async () => {
    await load?.stop(0)
    if (svc && svc.child.exitCode === null) {
      svc.child.kill('SIGKILL')
      await svc.exited
    }
    await influxd?.stop()
    volume?.unmount()
  })

  it.skipIf(unavailable)(
    `${unavailable ? `SKIPPED: ${unavailable}. ` : ''}publish until PUBACKs stop; the service stays up and /ready says why; after space returns and InfluxDB is back, every acknowledged reading is in InfluxDB exactly once and new readings flow without a restart`,
    { timeout: 90_000 },
    async () => {
      volume = mountTmpfs(VOLUME_MIB)
      const dataDir = volume.dir
      const logDir = join(dataDir, 'log')
      influxd = await startInfluxd()
      const token = randomBytes(32).toString('base64url')
      svc = await spawnService({
        dataDir,
        influxUrl: influxd.url,
        db: DB,
        token,
        httpPort: await freePort(),
        mqttPort: await freePort(),
        env: {
          DATA_MIN_FREE_MB: String(MIN_FREE_MIB),
          SPOOL_SEGMENT_MB: '1',
          MQTT_DEVICE_RATE: '0',
        },
      })
      const service = svc
      const devices = await provisionBins(service.url, token, DEVICES, 'df', 'diskfull')
      const why = () => `\n--- service output ---\n${service.output()}`
      const ready = async (): Promise<Ready> => {
        const res = await fetch(`${service.url}/ready`)
        return { status: res.status, body: (await res.json()) as Ready['body'] }
      }
      const refusedTotal = async (code: string) => {
        const text = await (await fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text()
        return Number(new RegExp(`^sp_log_refused_total\\{code="${code}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0)
      }
      const alive = async () => {
        expect(service.child.exitCode, why()).toBeNull()
        expect((await fetch(`${service.url}/health`)).status).toBe(200)
      }
      const logBytesOnDisk = () =>
        readdirSync(logDir)
          .filter((f) => f.endsWith('.log'))
          .reduce((n, f) => n + statSync(join(logDir, f)).size, 0)
      /**
       * Every point's time, device by device (InfluxDB 1.x cuts a result at 10,000 rows and says so
       * with `partial`); each point's value must be the one sent with its time.
       */
      const influxTimes = async () => {
        const all: number[] = []
        const wrong: [number, number][] = []
        for (const d of devices) {
          const q = `SELECT "fillingLevel" FROM "bin" WHERE "device_id" = '${d.id}'`
          const res = await fetch(`${influxd!.url}/query?${new URLSearchParams({ db: DB, q, epoch: 'ms' })}`)
          const body = (await res.json()) as { results: { series?: { values: [number, number][]; partial?: boolean }[] }[] }
          const series = body.results[0]?.series?.[0]
          expect(series?.partial ?? false).toBe(false)
          for (const [t, v] of series?.values ?? []) {
            all.push(t)
            if (v !== fill(t)) wrong.push([t, v])
          }
        }
        expect(wrong.slice(0, 5)).toEqual([])
        return all
      }

      expect((await ready()).status).toBe(200)
      await influxd.kill()

      // Phase 1: the log fills the volume down to DATA_MIN_FREE_MB. A ballast file takes all but
      // FILL_ROOM_MIB above that, so that the fill takes seconds rather than ~100,000 readings.
      const ballast = join(dataDir, 'ballast')
      writeBallast(ballast, volume.free() - (MIN_FREE_MIB + FILL_ROOM_MIB) * MiB)
      const fleetRun = startFleet(service.mqttUrl, devices)
      load = fleetRun
      const { fleet } = fleetRun
      try {
        await waitFor(() => fleet.acked.size > 1_000 && Date.now() - fleet.lastAckAt > 3_000, 40_000, 100).catch((e: Error) => {
          throw new Error(`${e.message}: ${fleet.acked.size} acknowledged, last ${Date.now() - fleet.lastAckAt} ms ago${why()}`)
        })
        // The devices keep trying (and are refused) while the volume is at its floor.
        const connectsAtStop = fleet.connects
        await sleep(1_500)
        expect(fleet.connects).toBeGreaterThan(connectsAtStop)
        await alive()
        const low = await ready()
        expect(low.status).toBe(503)
        expect(low.body.status).toBe('degraded')
        expect(low.body.checks.log?.ok).toBe(false)
        expect(low.body.checks.log?.detail).toMatch(/^refusing readings since \S+Z \(DISK_LOW\): \d+ bytes free on the data volume/)
        expect(low.body.checks.influxdb?.ok).toBe(false)
        expect(await refusedTotal('DISK_LOW')).toBeGreaterThan(0)
        // It stopped at the floor: the log, not the ballast, took the room. (What DATA_MIN_FREE_MB kept free
        // may be gone too: it is there for the registry, whose SQLite WAL grows with every (re)connect.)
        expect(logBytesOnDisk()).toBeGreaterThan((FILL_ROOM_MIB - 1) * MiB)
        expect(volume.free()).toBeLessThan((MIN_FREE_MIB + 1) * MiB)

        // Phase 2: a real ENOSPC. Some room comes back; the moment appends resume, another writer takes
        // every last byte, so the log's next write fails on a full filesystem before its once-a-second
        // statfs could see it coming. Tried up to three times in case a statfs lands in between.
        const filler = join(dataDir, 'filler')
        for (let attempt = 1; (await refusedTotal('DISK_FULL')) === 0; attempt++) {
          expect(attempt, `no ENOSPC after ${attempt - 1} attempts${why()}`).toBeLessThanOrEqual(3)
          try {
            unlinkSync(filler)
          } catch {}
          truncateSync(ballast, statSync(ballast).size - 4 * MiB)
          const before = fleet.acked.size
          await waitFor(() => fleet.acked.size > before, 10_000, 2)
          fillUntilFull(filler)
          await waitFor(async () => (await refusedTotal('DISK_FULL')) > 0 || (await ready()).body.checks.log?.ok === false, 5_000, 20)
        }
        expect(volume.free()).toBeLessThan(256 * 1024)
        // Full to the last page for a few seconds: devices reconnecting, SQLite and checkpoints failing too.
        const ackedWhenFull = fleet.acked.size
        await sleep(3_000)
        await alive()
        const full = await ready()
        expect(full.status).toBe(503)
        expect(full.body.checks.log?.detail).toMatch(/^refusing readings since \S+Z \((DISK_FULL|DISK_LOW)\): /)
        expect(fleet.acked.size).toBe(ackedWhenFull)

        // Phase 3: space returns (the other writer's file goes; the ballast stays) and InfluxDB comes back.
        // The writer catches up, the segments every reader has passed are deleted, and appends resume by themselves.
        unlinkSync(filler)
        await influxd.start()
        await waitFor(async () => (await ready()).status === 200, 30_000, 200).catch(async (e: Error) => {
          throw new Error(`/ready: ${e.message}: ${JSON.stringify((await ready()).body)}${why()}`)
        })
        const recoveryTs = fleet.nextTs
        const ackedAtRecovery = fleet.acked.size
        await waitFor(() => [...fleet.acked].filter((t) => t >= recoveryTs).length >= 500, 15_000, 50)
        expect(fleet.acked.size).toBeGreaterThan(ackedAtRecovery)
      } finally {
        await fleetRun.stop()
      }
      await alive()

      const acked = [...fleet.acked]
      const times = await waitFor(
        async () => {
          const t = await influxTimes()
          const have = new Set(t)
          return acked.every((a) => have.has(a)) ? t : null
        },
        20_000,
        500,
      ).catch(async (e: Error) => {
        const have = new Set(await influxTimes())
        const missing = acked.filter((a) => !have.has(a))
        throw new Error(
          `${e.message}: ${missing.length} of ${acked.length} acknowledged readings missing, e.g. ${missing.slice(0, 5)}${why()}`,
        )
      })
      const distinct = new Set(times)
      // Exactly once: one point per device time (each time was sent by one device only), and nothing that was never sent.
      // (InfluxDB keys a point by series and time, so a resent reading that the log holds twice still lands once.)
      expect(times.length).toBe(distinct.size)
      expect([...distinct].filter((t) => !fleet.sent.has(t))).toEqual([])
      expect(distinct.size).toBeGreaterThanOrEqual(acked.length)
      // The log gave its space back on its own once every reader had passed its segments.
      await waitFor(() => logBytesOnDisk() <= 2 * MiB, 10_000, 200)
      const end = await ready()
      expect(end.status, JSON.stringify(end.body)).toBe(200)
      expect(end.body.checks.log?.detail).toMatch(/^appending; /)
    },
  )
})
