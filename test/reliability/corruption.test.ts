import { appendFileSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listSegments, segmentName } from '../../log/segments.ts'
import { binReading } from '../helpers/load.ts'
import { frameOffsets } from '../helpers/log-frames.ts'
import { connectDevice, countPoints, startService, type TestService, telemetryTopic, waitFor } from '../helpers/service.ts'

interface Ready {
  status: string
  checks: Record<string, { ok: boolean; detail?: string }>
}

/** Readings per phase, each phase in its own 100 s of device time. */
const N = 12
const T0 = Date.now() - 3_600_000
const span = (phase: number) => ({ from: T0 + phase * 100_000, to: T0 + (phase + 1) * 100_000 })

describe('damage to the log on disk is reported and stepped over; readings acknowledged after the restart all land', () => {
  let svc: TestService
  let dataDir = ''
  let logDir = ''
  let device: { id: string; secret: string; site: string; type: string }
  let phase = 0

  const inRange = (p: number) => {
    const { from, to } = span(p)
    return `"device_id" = '${device.id}' AND time >= ${from}ms AND time < ${to}ms`
  }
  const points = (p: number) => countPoints(svc.influxUrl, svc.db, 'bin', inRange(p))

  /** Publishes N QoS 1 readings in the next phase's time span; resolves once all are acknowledged and in InfluxDB. */
  async function publishPhase(): Promise<number> {
    const p = phase++
    const c = await connectDevice(svc.mqttUrl, device.id, device.secret)
    let acked = 0
    for (let i = 0; i < N; i++) {
      await c.publishAsync(telemetryTopic(device), binReading(span(p).from + i * 1000), { qos: 1 })
      acked++
    }
    await c.endAsync()
    expect(acked).toBe(N)
    await waitFor(async () => (await points(p)) === N, 10_000)
    return p
  }

  const ready = async () => (await (await fetch(`${svc.url}/ready`)).json()) as Ready
  const damageMetric = async (reader: string) => {
    const text = await (await svc.api('/metrics')).text()
    const m = new RegExp(`^sp_log_damage_total\\{reader="${reader}"\\} (\\d+)$`, 'm').exec(text)
    return m ? Number(m[1]) : 0
  }
  const setInfluxCheckpoint = (p: { segment: number; offset: number }) =>
    writeFileSync(join(logDir, 'influxdb.checkpoint'), JSON.stringify(p))

  /** Closes the service, lets `edit` damage the data dir (given the segment the run wrote), and starts it again on the same dir. */
  async function restartAfter<T>(edit: (segment: number, file: string) => T): Promise<T> {
    const segment = Math.max(...listSegments(logDir))
    await svc.service.close()
    const out = edit(segment, join(logDir, segmentName(segment)))
    svc = await startService({}, { dataDir, db: svc.db, token: svc.token })
    return out
  }

  /** Byte damage in the middle of the last run's segment, made unread again for the InfluxDB writer. */
  async function middleRecordDamage(edit: (buf: Buffer, frame: { offset: number; payloadBytes: number }) => void) {
    const before = phase - 1
    const { segment, offset } = await restartAfter((segment, file) => {
      const fs = frameOffsets(file)
      expect(fs).toHaveLength(N)
      const frame = fs[Math.floor(N / 2)]!
      const buf = readFileSync(file)
      edit(buf, frame)
      writeFileSync(file, buf)
      setInfluxCheckpoint({ segment, offset: 0 })
      return { segment, offset: frame.offset }
    })
    return { segment, offset, before }
  }

  /** What every damage case must show after the restart: reported by /ready and the metric, and no acknowledged reading lost. */
  async function expectReportedAndFlowing(detail: string, earlier: number | null) {
    const p = await publishPhase()
    expect(await points(p)).toBe(N)
    const r = await waitFor(async () => {
      const x = await ready()
      return x.checks['reader:influxdb']?.detail?.includes('damaged') ? x : null
    }, 10_000)
    const check = r.checks['reader:influxdb']!
    expect(check.ok).toBe(false)
    expect(r.status).toBe('degraded')
    expect(check.detail).toContain(`1 damaged record(s) skipped, latest in ${detail}`)
    expect(await damageMetric('influxdb')).toBe(1)
    // The other readers save their checkpoints less often, so they may replay the damaged range too:
    // each either passed it before the damage or reports the very same record.
    for (const other of ['reader:alerts', 'reader:quarantine']) {
      expect(r.checks[other]).toBeDefined()
      const d = r.checks[other]!.detail!
      if (d.includes('damaged')) expect(d).toContain(`1 damaged record(s) skipped, latest in ${detail}`)
      else expect(r.checks[other]!.ok).toBe(true)
    }
    // What was already in InfluxDB stays exactly once: replays are idempotent, skipping loses nothing stored.
    if (earlier !== null) expect(await points(earlier)).toBe(N)
    // The writer caught up with everything.
    await waitFor(async () => (await ready()).checks['reader:influxdb']?.detail?.startsWith('0 records'), 10_000)
  }

  beforeAll(async () => {
    svc = await startService()
    dataDir = svc.dataDir
    logDir = join(dataDir, 'log')
    device = await svc.provision({ id: 'bin-corrupt', type: 'bin', site: 'corrupt' })
    await publishPhase()
  })
  afterAll(async () => {
    await svc?.close()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  it('a torn tail is cut off at start and shown on /ready; nothing acknowledged is lost', async () => {
    const earlier = phase - 1
    const { file, size, torn } = await restartAfter((segment, file) => {
      const size = statSync(file).size
      const last = frameOffsets(file).at(-1)!
      // Half of a copy of the last frame: what a write cut short by a crash leaves.
      const frame = readFileSync(file).subarray(last.offset)
      const torn = frame.subarray(0, Math.floor(frame.length / 2))
      appendFileSync(file, torn)
      setInfluxCheckpoint({ segment, offset: 0 })
      return { file, size, torn: torn.length }
    })
    expect(torn).toBeGreaterThan(10)
    expect(statSync(file).size).toBe(size)
    const p = await publishPhase()
    expect(await points(p)).toBe(N)
    const r = await ready()
    expect(r.checks.log!.ok).toBe(true)
    expect(r.checks.log!.detail).toContain(
      `1 damaged or torn place(s) found at start, latest in ${basename(file)} at offset ${size}: torn tail of ${torn} bytes`,
    )
    // The replay of the truncated segment met no damage: the torn bytes were never acknowledged.
    expect(r.checks['reader:influxdb']!.detail).not.toContain('damaged')
    expect(await damageMetric('influxdb')).toBe(0)
    expect(await points(earlier)).toBe(N)
  })

  it('a flipped payload byte (bad checksum) in unread data', async () => {
    const d = await middleRecordDamage((buf, f) => {
      buf[f.offset + 10 + Math.floor(f.payloadBytes / 2)]! ^= 0x08
    })
    await expectReportedAndFlowing(`${segmentName(d.segment)} at offset ${d.offset}: bad checksum`, d.before)
  })

  it('a NUL byte over a payload byte in unread data', async () => {
    const d = await middleRecordDamage((buf, f) => {
      const at = f.offset + 10 + 3
      expect(buf[at]).not.toBe(0)
      buf[at] = 0
    })
    await expectReportedAndFlowing(`${segmentName(d.segment)} at offset ${d.offset}: bad checksum`, d.before)
  })

  it('a bad length field in unread data', async () => {
    const d = await middleRecordDamage((buf, f) => {
      buf.writeUInt32LE(0xffff_fff0, f.offset + 2)
    })
    await expectReportedAndFlowing(`${segmentName(d.segment)} at offset ${d.offset}: bad length`, d.before)
  })

  it('an InfluxDB checkpoint past the end of an existing segment', async () => {
    const earlier = phase - 1
    const offset = 10_000_000_000
    const { segment, size } = await restartAfter((segment, file) => {
      setInfluxCheckpoint({ segment, offset })
      return { segment, size: statSync(file).size }
    })
    await expectReportedAndFlowing(
      `${segmentName(segment)} at offset ${offset}: checkpoint beyond the data: segment holds ${size} bytes`,
      earlier,
    )
  })

  it('an InfluxDB checkpoint naming a segment beyond any', async () => {
    const earlier = phase - 1
    const segment = await restartAfter((segment) => {
      setInfluxCheckpoint({ segment: segment + 1000, offset: 0 })
      return segment + 1000
    })
    await expectReportedAndFlowing(`${segmentName(segment)} at offset 0: checkpoint beyond the data: no such segment`, earlier)
  })
})
