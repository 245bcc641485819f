import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, inject, it } from 'vitest'
import {
  type Alert,
  type Area,
  CollectionSchedule,
  type Device,
  decodeTelemetry,
  deviceTypeOf,
  evaluateReading,
  newDeviceRuleState,
  type Round,
} from '#devices'
import { freePort } from '../../scripts/free-port.ts'
import { nodeFlags } from '../../scripts/node-flags.ts'
import { DEMO_AREAS, DEMO_ROUND, DEMO_SITES, demoCollectionDay } from '../../simulators/first-look-devices.ts'
import { demoSet, demoStream } from '../../simulators/first-look-stream.ts'
import { captureChildOutput, childLogLevel, noteSecret } from '../helpers/log-capture.ts'
import { waitFor } from '../helpers/service.ts'

const H = 3_600_000
const DEMO_SITE_IDS: string[] = Object.values(DEMO_SITES)

interface Sim {
  child: ChildProcess
  url: string
  exited: Promise<number | null>
  output(): string
}

/** `npm start` as scripts/start.sh runs it (`service/main.ts --sim …`), on its own data dir and ports. */
async function spawnSim(dataDir: string, db: string, token: string, args: string[]): Promise<Sim> {
  const httpPort = await freePort()
  const child = spawn(process.execPath, [...nodeFlags(), '--import', 'tsx', 'service/main.ts', '--sim', ...args], {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      HTTP_PORT: String(httpPort),
      MQTT_PORT: String(await freePort()),
      MQTT_HOST: '127.0.0.1',
      MQTT_WS_PORT: 'off',
      INFLUX_URL: inject('influxUrl'),
      INFLUX_DB: db,
      ADMIN_TOKEN: token,
      LOG_LEVEL: childLogLevel('info'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output = captureChildOutput(child, 'first-look', 'info', 50_000)
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  await waitFor(() => output().includes('smartplace is running') || child.exitCode !== null, 30_000)
  if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}:\n${output()}`)
  return { child, url: `http://127.0.0.1:${httpPort}`, exited, output }
}

describe('first look: a fresh npm start shows an open alert in every view within a minute (issue 11, item 6, acceptance 5)', () => {
  const token = randomBytes(32).toString('base64url')
  noteSecret(token)
  const dirs: string[] = []
  const sims: Sim[] = []
  const start = async (args: string[], dataDir = mkdtempSync(join(tmpdir(), 'sp-first-look-'))) => {
    if (!dirs.includes(dataDir)) dirs.push(dataDir)
    const sim = await spawnSim(dataDir, `first_look_${randomBytes(4).toString('hex')}`, token, args)
    sims.push(sim)
    return { sim, dataDir }
  }
  const api = async <T>(sim: Sim, path: string, init: RequestInit = {}, bearer = token): Promise<T> => {
    const res = await fetch(sim.url + path, {
      ...init,
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', ...init.headers },
    })
    expect(res.status, `${path}: ${await res.clone().text()}`).toBeLessThan(300)
    return (await res.json()) as T
  }
  const stop = async (sim: Sim) => {
    sim.child.kill('SIGTERM')
    return sim.exited
  }
  afterAll(async () => {
    for (const s of sims) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL')
    await Promise.all(sims.map((s) => s.exited))
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  it('raises open bin, home and energy alerts on the demo devices, with their areas and round, and picks up again after a restart', async () => {
    const started = Date.now()
    const { sim, dataDir } = await start(['--bins', '2', '--boilers', '2', '--meters', '2'])
    // Each view's alert: bins, homes (a boiler or a room) and energy.
    const views = { bin: ['bin'], home: ['boiler', 'room'], energy: ['meter'] }
    const stories = [
      'demo-bin-market-place bin-full-before-collection',
      'demo-boiler-hawthorn-house-14 boiler-pressure-low',
      'demo-room-rowan-house-3-bedroom damp-mould-risk',
      'demo-meter-riverside-leisure-centre meter-demand-high',
    ]
    // Every view has an alert, and every demo story has raised its own (the histories stream side by side,
    // so which comes first depends on the time of day the story is told at).
    const open = await waitFor(
      async () => {
        const alerts = await api<Alert[]>(sim, '/api/alerts?status=open&limit=1000')
        const seen = Object.values(views).every((types) => alerts.some((a) => types.includes(a.deviceType)))
        const told = alerts.map((a) => `${a.deviceId} ${a.ruleId}`)
        return seen && stories.every((x) => told.includes(x)) && alerts
      },
      60_000 - (Date.now() - started),
      500,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${sim.output()}`)
    })
    expect(Date.now() - started).toBeLessThan(60_000)
    // They are the demo stories, at the demo sites: not something the random fleet happened to do.
    const demo = open.filter((a) => DEMO_SITE_IDS.includes(a.site)).map((a) => `${a.deviceId} ${a.ruleId}`)
    expect(demo).toEqual(expect.arrayContaining(stories))
    for (const a of open.filter((x) => DEMO_SITE_IDS.includes(x.site))) expect(a.status).toBe('active')

    // Named devices with coordinates near Kingston upon Thames, beside the random fleet.
    const devices = await api<Device[]>(sim, '/api/devices')
    const demoDevices = devices.filter((d) => d.id.startsWith('demo-'))
    expect(demoDevices.map((d) => d.id).sort()).toEqual(
      demoSet(Date.now())
        .map((d) => d.spec.id)
        .sort(),
    )
    for (const d of demoDevices) {
      expect(d.latitude).toBeGreaterThan(51.39)
      expect(d.latitude).toBeLessThan(51.42)
      expect(d.longitude).toBeGreaterThan(-0.32)
      expect(d.longitude).toBeLessThan(-0.28)
      expect(d.name).not.toMatch(/demo|sim/i)
    }
    expect(devices.filter((d) => d.id.startsWith('sim-'))).toHaveLength(6)

    // An area per demo site, and the bins' round with its schedule.
    const areas = await api<Area[]>(sim, '/api/areas')
    const byId = (a: Area, b: Area) => a.id.localeCompare(b.id)
    expect(areas.filter((a) => a.id.startsWith('demo-')).sort(byId)).toEqual([...DEMO_AREAS].sort(byId))
    const rounds = await api<Round[]>(sim, '/api/rounds')
    const round = rounds.find((r) => r.id === DEMO_ROUND.id)
    expect(round?.site).toBe(DEMO_SITES.town)
    expect([...round!.deviceIds].sort()).toEqual(['demo-bin-clarence-street', 'demo-bin-market-place'])
    expect(round!.schedule.weekdays).toHaveLength(1)

    // A crew member granted the town centre sees its bins and round, and nothing of the homes.
    const crew = await api<{ token: string }>(sim, '/api/tokens', {
      method: 'POST',
      body: JSON.stringify({ name: 'first look crew', grant: { role: 'crew', areas: [DEMO_SITES.town] }, expiresInDays: 1 }),
    })
    noteSecret(crew.token)
    expect((await api<Round[]>(sim, '/api/rounds', {}, crew.token)).map((r) => r.id)).toEqual([DEMO_ROUND.id])
    expect((await api<Device[]>(sim, '/api/devices', {}, crew.token)).map((d) => d.id).sort()).toEqual([
      'demo-bin-clarence-street',
      'demo-bin-market-place',
    ])
    const crewAlerts = await api<Alert[]>(sim, '/api/alerts?status=open', {}, crew.token)
    expect(crewAlerts.map((a) => a.ruleId)).toContain('bin-full-before-collection')
    expect(crewAlerts.every((a) => a.site === DEMO_SITES.town)).toBe(true)

    // The demo devices' secrets are kept for the next start, readable by the service's user only.
    const file = join(dataDir, 'first-look.json')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const kept = JSON.parse(readFileSync(file, 'utf8')) as { anchor: number; devices: { secret: string }[] }
    for (const d of kept.devices) noteSecret(d.secret)

    // Started again on the same data once the history is through, it resumes the same stories (same anchor,
    // same devices, nothing sent twice) and stays up.
    await waitFor(() => sim.output().includes('first look: history sent'), 30_000)
    // All of the history was inside the accepted window: none of it is quarantined.
    const quarantined = await api<{ deviceId: string; code: string }[]>(sim, '/api/quarantine?limit=1000')
    expect(quarantined.filter((q) => q.deviceId.startsWith('demo-'))).toEqual([])
    expect(await stop(sim), sim.output().slice(-5000)).toBe(0)
    const again = await start(['--bins', '2', '--boilers', '2', '--meters', '2'], dataDir)
    const after = JSON.parse(readFileSync(file, 'utf8')) as { anchor: number; playedUntil: number | null; devices: unknown[] }
    expect(after.anchor).toBe(kept.anchor)
    expect(after.devices).toHaveLength(kept.devices.length)
    expect(after.playedUntil).toBeGreaterThan(kept.anchor - H)
    // The first look's start line follows the banner, asynchronously: waited for, not raced.
    await waitFor(() => again.sim.output().includes('first look: demo devices starting'), 15_000)
    expect(again.sim.output()).toContain('"resumed":true')
    expect(again.sim.output()).not.toMatch(/first look: .*left out/)
    expect((await api<Alert[]>(again.sim, `/api/alerts?status=open&site=${DEMO_SITES.town}`)).length).toBeGreaterThan(0)
    expect(again.sim.child.exitCode).toBeNull()
  }, 100_000)

  it('--no-first-look starts the simulated fleet (even an empty one) without any demo device, area or round', async () => {
    const { sim } = await start(['--bins', '0', '--boilers', '0', '--meters', '0', '--no-first-look'])
    expect(await api<Device[]>(sim, '/api/devices')).toEqual([])
    expect((await api<Area[]>(sim, '/api/areas')).filter((a) => a.id.startsWith('demo-'))).toEqual([])
    expect(await api<Round[]>(sim, '/api/rounds')).toEqual([])
    expect(sim.output()).not.toMatch(/first look/)
    expect(await stop(sim)).toBe(0)
  }, 40_000)
})

/** The demo's alerts, from the same rule evaluation the engine uses: which are open at `until`. */
function openAt(anchor: number, until: number): Record<string, string[]> {
  const schedule = CollectionSchedule.parse({ weekdays: [demoCollectionDay(anchor)] })
  const out: Record<string, string[]> = {}
  for (const d of demoSet(anchor)) {
    const def = deviceTypeOf(d.spec.type)!
    const state = newDeviceRuleState()
    const open = new Set<string>()
    for (const r of demoStream(d, anchor).until(until)) {
      const decoded = decodeTelemetry(new TextEncoder().encode(JSON.stringify({ readings: r.readings })), def, 0)
      if (decoded.outcome !== 'accepted') throw new Error(`${d.spec.id}: a demo reading was refused: ${decoded.outcome}`)
      for (const tr of evaluateReading(def.rules, def, state, r.ts, decoded.readings, { schedule: def.collections ? schedule : null })) {
        if (tr.transition === 'raised') open.add(tr.rule.id)
        else open.delete(tr.rule.id)
      }
    }
    out[d.spec.id] = [...open].sort()
  }
  return out
}

describe('first look stories end with their alert open at any time of day or week', () => {
  // Every 5 h 13 min over two weeks that include the clocks going forward (29 March 2026), and a few
  // hours on: a story must not depend on when someone first runs npm start.
  const from = Date.UTC(2026, 2, 22, 0, 7)
  const anchors = Array.from({ length: 64 }, (_, i) => from + i * (5 * H + 13 * 60_000))

  it.each(anchors.map((a) => [new Date(a).toISOString(), a] as const))('first start at %s', (_, anchor) => {
    for (const until of [anchor, anchor + 4 * H]) {
      const open = openAt(anchor, until)
      expect(open['demo-bin-market-place']).toContain('bin-full-before-collection')
      expect(open['demo-boiler-hawthorn-house-14']).toContain('boiler-pressure-low')
      expect(open['demo-room-rowan-house-3-bedroom']).toEqual(['damp-mould-risk'])
      expect(open['demo-boiler-rowan-house-3']).toEqual(['damp-mould-risk'])
      expect(open['demo-meter-riverside-leisure-centre']).toEqual(['meter-demand-high'])
      // The neighbours show what normal looks like.
      expect(open['demo-bin-clarence-street']).toEqual([])
      expect(open['demo-meter-guildhall-annexe']).toEqual([])
    }
  })

  it('sends no reading older than the longest history, so all of it is inside the default accepted window (7 days)', () => {
    const anchor = Date.UTC(2026, 5, 10, 12)
    for (const d of demoSet(anchor)) {
      const first = demoStream(d, anchor).until(anchor).next().value
      expect(first, d.spec.id).toBeDefined()
      expect(anchor - first!.ts).toBeLessThan(6 * 24 * H + 1)
    }
  })
})
