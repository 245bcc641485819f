import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { type Alert, type Device, type LiveBus, type ReadingRecord, Rule } from '#devices'
import { ALERT_READER, type AlertEngineStore, createAlertEngine, type RaiseInput } from '../../alerts/engine.ts'
import type { Batch } from '../../log/cursor.ts'
import { createLiveBus } from '../../service/live-bus.ts'

const silent = pino({ level: 'silent' })

/** An in-memory store with the engine's port; `failRaise` makes the next raise throw once. */
function memoryStore() {
  const alerts: Alert[] = []
  let checkpoint: { segment: number; offset: number } | null = null
  const states = new Map<string, string>()
  const commits: { checkpoint: unknown; raise: number; clear: number; states: number }[] = []
  let failRaise = false
  const make = (i: RaiseInput): Alert => ({
    id: `a${alerts.length + 1}`,
    deviceId: i.deviceId,
    deviceType: i.deviceType,
    site: i.site,
    ruleId: i.rule.id,
    title: i.rule.title,
    severity: i.rule.severity,
    status: 'active',
    value: i.value,
    raisedAt: new Date(i.ts).toISOString(),
    acknowledgedAt: null,
    acknowledgedBy: null,
    clearedAt: null,
    text: i.rule.text ?? null,
    detail: i.detail ?? null,
    acknowledgedComment: null,
    assignedTo: null,
    snoozedUntil: null,
    resolvedAt: null,
    resolvedBy: null,
    resolvedNote: null,
    incidentId: i.incidentId ?? null,
  })
  const store: AlertEngineStore = {
    async loadEngine() {
      return { checkpoint, states: new Map(states) }
    },
    async open() {
      return alerts.filter((a) => a.status === 'active' || a.status === 'acknowledged')
    },
    async raise(input) {
      if (failRaise) {
        failRaise = false
        throw new Error('database restarting')
      }
      const a = make(input)
      alerts.push(a)
      return a
    },
    async escalate() {
      return null
    },
    async commitBatch(b) {
      const changed: { action: 'raised' | 'cleared'; alert: Alert }[] = []
      for (const r of b.raise) {
        const a = make(r)
        alerts.push(a)
        changed.push({ action: 'raised', alert: a })
      }
      for (const c of b.clear) {
        const a = alerts.find((x) => x.deviceId === c.deviceId && x.ruleId === c.ruleId && x.status !== 'cleared')
        if (!a) continue
        a.status = 'cleared'
        a.clearedAt = new Date(c.at).toISOString()
        changed.push({ action: 'cleared', alert: a })
      }
      for (const [id, s] of b.states) states.set(id, s)
      if (b.checkpoint) checkpoint = b.checkpoint
      commits.push({ checkpoint: b.checkpoint, raise: b.raise.length, clear: b.clear.length, states: b.states.length })
      return changed
    },
  }
  return {
    store,
    alerts,
    commits,
    states,
    failNextRaise: () => {
      failRaise = true
    },
  }
}

const bus = (): LiveBus => createLiveBus(silent)

const device: Device = {
  id: 'bin-1',
  type: 'bin',
  name: 'Market St',
  site: 's',
  latitude: null,
  longitude: null,
  uprn: null,
  intervalS: 60,
  createdAt: new Date(0).toISOString(),
  presence: 'online',
  lastSeen: null,
}
const reading = (ts: number, receivedAt: number, fill = 0.3): ReadingRecord => ({
  kind: 'reading',
  deviceId: device.id,
  type: 'bin',
  site: 's',
  uprn: null,
  ts,
  receivedAt,
  quality: 'good',
  readings: { fillingLevel: fill, temperature: 10, batteryPct: 80, tilted: false },
})
const batch = (records: ReadingRecord[], offset: number): Batch => ({ records, end: { segment: 1, offset } })

describe('alert engine', () => {
  it('a replay of readings older than a device-offline alert does not clear it; a newer reading does', async () => {
    const m = memoryStore()
    let t = 1_000_000
    const engine = createAlertEngine({ store: m.store, bus: bus(), rulesOf: () => [], log: silent, now: () => t })
    await engine.handler.load()
    t += 10 * 60_000
    await engine.checkSilence([device], t)
    const raisedAt = t
    expect(m.alerts.map((a) => [a.ruleId, a.status])).toEqual([['device-offline', 'active']])

    // A restart: the engine reloads, and replays readings from before the alert (checkpoint held back).
    const again = createAlertEngine({ store: m.store, bus: bus(), rulesOf: () => [], log: silent, now: () => t })
    await again.handler.load()
    await again.handler.handle(batch([reading(raisedAt - 120_000, raisedAt - 120_000)], 100))
    expect(m.alerts[0]!.status).toBe('active')
    await again.handler.handle(batch([reading(raisedAt + 5_000, raisedAt + 5_000)], 200))
    expect(m.alerts[0]!.status).toBe('cleared')
  })

  it('a device-offline raise that fails is tried again on the next check', async () => {
    const m = memoryStore()
    let t = 1_000_000
    const engine = createAlertEngine({ store: m.store, bus: bus(), rulesOf: () => [], log: silent, now: () => t })
    await engine.handler.load()
    t += 10 * 60_000
    m.failNextRaise()
    await expect(engine.checkSilence([device], t)).rejects.toThrow('database restarting')
    expect(m.alerts).toHaveLength(0)
    await engine.checkSilence([device], t + 1_000)
    expect(m.alerts.map((a) => a.ruleId)).toEqual(['device-offline'])
  })

  it('rule state held back between commits is saved on close, with the position it belongs to', async () => {
    const m = memoryStore()
    const t = 5_000_000
    const engine = createAlertEngine({
      store: m.store,
      bus: bus(),
      rulesOf: (d) => (d.type === 'bin' ? [fullRule] : []),
      log: silent,
      now: () => t,
    })
    await engine.handler.load()
    // The first batch commits (nothing committed yet); the second, one breach short of raising, is held back.
    await engine.handler.handle(batch([reading(1, t)], 10))
    await engine.handler.handle(batch([reading(2, t, 0.97)], 20))
    expect(m.commits).toHaveLength(1)
    await engine.handler.close!()
    expect(m.commits.at(-1)!.checkpoint).toEqual({ segment: 1, offset: 20 })
    const saved = JSON.parse(m.states.get(device.id)!) as { lastTs: number; rules: Record<string, { count: number }> }
    expect(saved.lastTs).toBe(2)
    expect(saved.rules['bin-full']!.count).toBe(1)

    // After a restart from that state, one more breach raises: the count survived.
    const again = createAlertEngine({ store: m.store, bus: bus(), rulesOf: () => [fullRule], log: silent, now: () => t })
    expect(await again.handler.load()).toEqual({ segment: 1, offset: 20 })
    await again.handler.handle(batch([reading(3, t, 0.98)], 30))
    expect(m.alerts.map((a) => a.ruleId)).toEqual(['bin-full'])
    expect(ALERT_READER).toBe('alerts')
  })
})

describe('alert engine commits', () => {
  it('stores a transition at once with only its device state, leaving the checkpoint to the next full commit', async () => {
    const m = memoryStore()
    let t = 9_000_000
    const engine = createAlertEngine({ store: m.store, bus: bus(), rulesOf: () => [fullRule], log: silent, now: () => t })
    await engine.handler.load()
    const other = (ts: number): ReadingRecord => ({ ...reading(ts, t), deviceId: 'bin-2' })
    // The first batch is a full commit (nothing saved yet).
    await engine.handler.handle(batch([reading(1, t), other(1)], 10))
    expect(m.commits.at(-1)).toMatchObject({ checkpoint: { segment: 1, offset: 10 }, states: 2 })
    // Within the commit interval: bin-2 moves on quietly, bin-1 raises. Only bin-1's state goes with the alert.
    t += 100
    await engine.handler.handle(batch([other(2), reading(2, t, 0.97)], 20))
    const durable = await engine.handler.handle(batch([other(3), reading(3, t, 0.98)], 30))
    expect(m.commits.at(-1)).toEqual({ checkpoint: null, raise: 1, clear: 0, states: 1 })
    expect(durable).toEqual({ segment: 1, offset: 10 })
    expect(JSON.parse(m.states.get('bin-1')!).lastTs).toBe(3)
    expect(JSON.parse(m.states.get('bin-2')!).lastTs).toBe(1)
    // The next full commit saves everyone and moves the checkpoint.
    t += 600
    expect(await engine.handler.handle(batch([other(4)], 40))).toEqual({ segment: 1, offset: 40 })
    expect(JSON.parse(m.states.get('bin-2')!).lastTs).toBe(4)
  })
})

const fullRule = Rule.parse({
  kind: 'threshold',
  id: 'bin-full',
  title: 'Bin full',
  text: 'This bin is full.',
  field: 'fillingLevel',
  direction: 'above',
  raiseAt: 0.95,
  clearAt: 0.7,
  consecutive: 2,
  clearConsecutive: 2,
  severity: 'warning',
})
