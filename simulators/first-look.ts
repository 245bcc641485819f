import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import mqtt, { type MqttClient } from 'mqtt'
import { buildTopic } from '#devices'
import type { AreaStore } from '../store/area-store.ts'
import type { DeviceStore } from '../store/device-store.ts'
import type { RoundStore } from '../store/round-store.ts'
import { DEMO_AREAS, DEMO_HISTORY_MAX_MS, DEMO_ROUND, demoCollectionDay } from './first-look-devices.ts'
import { type DemoStream, demoSet, demoStream } from './first-look-stream.ts'
import type { Provisioner } from './provision.ts'

/** What the service keeps about its first look (mode 0600: it holds the demo devices' secrets). */
interface FirstLookState {
  /** The first start: every story is told from it. */
  anchor: number
  /** Device time up to which every demo reading has been sent (null: the history was never finished). */
  playedUntil: number | null
  devices: { id: string; secret: string }[]
}

export interface FirstLookLog {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

export interface FirstLookOptions {
  /** The service's own broker, plain MQTT. */
  url: string
  provision: Provisioner
  /** Tells whether a device whose secret is kept is still registered (not revoked, same registry). */
  devices: Pick<DeviceStore, 'get'>
  areas: Pick<AreaStore, 'put'>
  rounds: Pick<RoundStore, 'getRound' | 'createRound' | 'updateRound' | 'setRoundBins'>
  /** Keeps the anchor and the secrets across restarts; null keeps nothing. */
  file: string | null
  /** The service refuses readings older than this (TIME_LATE_S): history before it is not sent. */
  maxAgeMs: number
  log: FirstLookLog
  now?: () => number
}

export interface FirstLook {
  /** Settles once the history has been sent (the alerts follow as the service takes it in). */
  history: Promise<void>
  close(): Promise<void>
}

const ACTOR = 'system'
/** Readings this close to the accepted window's edge are not sent: sending the history takes a while. */
const AGE_MARGIN_MS = 10 * 60_000
const SAVE_EVERY_MS = 10 * 60_000
const IDLE_MAX_MS = 5_000

function load(file: string | null, log: FirstLookLog): FirstLookState | null {
  if (!file || !existsSync(file)) return null
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as FirstLookState
  } catch {
    // Not worth stopping the service for: the demo starts again, leaving out devices whose secrets were in it.
    log.warn({ file }, 'first look: its state file is unreadable; starting the demo again')
    return null
  }
}

/**
 * The first-look demo set of `npm start` (issue 11, item 6): named devices near Kingston upon
 * Thames whose last days are sent at once, so a fresh start shows an open alert in every view
 * within the first minute, and which then go on reporting in real time like any device. Their
 * areas and the bins' round are created too, so a crew person granted the town centre sees them.
 * Started again on the same data, it picks up where it stopped; after a longer break than its
 * longest history it tells its stories again from the new start.
 */
export async function startFirstLook(o: FirstLookOptions): Promise<FirstLook> {
  const now = o.now ?? Date.now
  const saved = load(o.file, o.log)
  const t0 = now()
  const resume = saved !== null && (saved.playedUntil ?? saved.anchor) > t0 - DEMO_HISTORY_MAX_MS
  const anchor = resume ? saved.anchor : t0
  const secrets = new Map((saved?.devices ?? []).map((d) => [d.id, d.secret]))
  const state: FirstLookState = { anchor, playedUntil: resume ? saved.playedUntil : null, devices: [] }
  const save = () => {
    if (o.file) writeFileSync(o.file, JSON.stringify(state, null, 1), { mode: 0o600 })
  }

  const set = demoSet(anchor)
  const ready: { stream: DemoStream; secret: string }[] = []
  for (const device of set) {
    let secret = secrets.get(device.spec.id)
    // A kept secret is stale when the device was revoked or the registry is a new one.
    if (secret && !(await o.devices.get(device.spec.id))) secret = undefined
    if (!secret) {
      const r = await o.provision(device.spec)
      if (r === 'exists') {
        o.log.warn(
          { deviceId: device.spec.id },
          'first look: this demo device id is taken (revoked, or its secret was lost), so it is left out; start with --no-first-look or a new DATA_DIR to be rid of the warning',
        )
        continue
      }
      secret = r.secret
    }
    state.devices.push({ id: device.spec.id, secret })
    ready.push({ stream: demoStream(device, anchor), secret })
  }
  save()

  for (const area of DEMO_AREAS) await o.areas.put(area, ACTOR)
  const round = { name: DEMO_ROUND.name, site: DEMO_ROUND.site, schedule: { weekdays: [demoCollectionDay(anchor)], time: '07:00' } }
  if (!(await o.rounds.getRound(DEMO_ROUND.id))) await o.rounds.createRound({ id: DEMO_ROUND.id, ...round }, ACTOR)
  else if (!resume) await o.rounds.updateRound(DEMO_ROUND.id, round, ACTOR)
  const bins = ready.filter((r) => r.stream.device.spec.type === 'bin').map((r) => r.stream.device.spec.id)
  await o.rounds.setRoundBins(DEMO_ROUND.id, bins, ACTOR)

  const since = Math.max(state.playedUntil ?? Number.NEGATIVE_INFINITY, t0 - o.maxAgeMs + AGE_MARGIN_MS)
  const players = ready.map(({ stream, secret }) => play(o.url, stream, secret, since, now, o.log))
  // Everything up to the earliest of the players' marks has been sent: a restart resumes from there.
  // Until every history is through, the mark stays where it was (a restart sends the history again).
  const mark = () => {
    const marks = players.map((p) => p.sentUntil())
    if (marks.length > 0 && marks.every((m) => m !== null)) state.playedUntil = Math.min(...(marks as number[]))
    save()
  }
  let closed = false
  const history = Promise.all(players.map((p) => p.history)).then(() => {
    if (closed) return
    mark()
    o.log.info({ devices: players.length }, 'first look: history sent; the demo devices now report in real time')
  })
  const timer = setInterval(mark, SAVE_EVERY_MS)
  timer.unref()
  o.log.info(
    { devices: players.length, resumed: resume, areas: DEMO_AREAS.map((a) => a.id), round: DEMO_ROUND.id },
    'first look: demo devices starting (skip them with --no-first-look)',
  )
  return {
    history,
    async close() {
      closed = true
      clearInterval(timer)
      await Promise.all(players.map((p) => p.close()))
      mark()
    },
  }
}

interface Player {
  history: Promise<void>
  /** Device time up to which every reading has been acknowledged; null until the history has been. */
  sentUntil(): number | null
  close(): Promise<void>
}

/**
 * One demo device on its own connection: its readings after `since` up to now as fast as the broker
 * takes them (the history), then each when it is due.
 */
function play(url: string, stream: DemoStream, secret: string, since: number, now: () => number, log: FirstLookLog): Player {
  const { id, type, site } = stream.device.spec
  const statusTopic = buildTopic({ site, type, deviceId: id, channel: 'status' })
  const topic = buildTopic({ site, type, deviceId: id, channel: 'telemetry' })
  const client: MqttClient = mqtt.connect(url, {
    clientId: id,
    username: id,
    password: secret,
    clean: true,
    keepalive: 60,
    reconnectPeriod: 2_000,
    connectTimeout: 15_000,
    will: { topic: statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
  })
  // Errors are retried by the client's reconnect; a refused connection shows in the service's own logs.
  client.on('error', () => {})
  client.on('connect', () => client.publish(statusTopic, 'online', { qos: 1, retain: true }))
  let closing = false
  let sentUntil: number | null = null
  let wake: (() => void) | null = null
  let historyDone: () => void = () => {}
  const history = new Promise<void>((r) => {
    historyDone = r
  })
  // A publish waiting for the broker's acknowledgement (or for a reconnect) must not hold up a shutdown.
  let stop: () => void = () => {}
  const stopped = new Promise<void>((r) => {
    stop = r
  })

  const run = async () => {
    while (!closing) {
      const until = now()
      for (const r of stream.until(until)) {
        if (r.ts <= since) continue
        const acked = client.publishAsync(topic, JSON.stringify(r), { qos: 1 })
        // A reading the client could not deliver is lost, as it would be from a real sensor.
        await Promise.race([acked, stopped]).catch(() => {})
        if (closing) return
      }
      sentUntil = until
      historyDone()
      const wait = Math.min(Math.max(0, stream.nextAt - now()), IDLE_MAX_MS)
      await new Promise<void>((r) => {
        wake = r
        setTimeout(r, wait).unref()
      })
    }
  }
  const running = run()
    .catch((e: Error) => log.warn({ deviceId: id, err: e.message }, 'first look: a demo device stopped'))
    .finally(() => historyDone())

  return {
    history,
    sentUntil: () => sentUntil,
    async close() {
      closing = true
      stop()
      wake?.()
      await running
      await client.endAsync(true).catch(() => {})
    },
  }
}
