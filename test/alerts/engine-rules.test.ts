import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { type Alert, CollectionSchedule, DEVICE_TYPES, type Device, type ReadingRecord } from '#devices'
import { type AlertEngineStore, createAlertEngine, type RaiseInput } from '../../alerts/engine.ts'
import type { Batch } from '../../log/cursor.ts'
import { createLiveBus } from '../../service/live-bus.ts'
import { readingRecord } from '../helpers/engine-records.ts'

const silent = pino({ level: 'silent' })
const MIN = 60_000
const H = 60 * MIN
const D = 24 * H
const T0 = Date.UTC(2026, 10, 2) // Monday 2 Nov 2026, GMT: London time is UTC

/** The engine's port in memory: enough to see what it raised, cleared and saved. */
function memoryStore() {
  const raised: RaiseInput[] = []
  const cleared: { deviceId: string; ruleId: string; at: number }[] = []
  const states = new Map<string, string>()
  const escalated: { id: string; to: string; at: number }[] = []
  let checkpoint: Batch['end'] | null = null
  const alert = (r: RaiseInput) =>
    ({ id: `a${raised.length}`, deviceId: r.deviceId, ruleId: r.rule.id, incidentId: r.incidentId ?? null }) as unknown as Alert
  const store: AlertEngineStore = {
    loadEngine: async () => ({ checkpoint, states: new Map(states) }),
    open: async () =>
      raised
        .filter((r) => !cleared.some((c) => c.deviceId === r.deviceId && c.ruleId === r.rule.id && c.at >= r.ts))
        .map((r) => ({ ...alert(r), deviceType: r.deviceType, site: r.site, raisedAt: new Date(r.ts).toISOString() }) as Alert),
    raise: async (r) => {
      raised.push(r)
      return alert(r)
    },
    escalate: async (id, to, at) => {
      escalated.push({ id, to, at })
      return null
    },
    commitBatch: async (b) => {
      raised.push(...b.raise)
      cleared.push(...b.clear)
      for (const [k, v] of b.states) states.set(k, v)
      checkpoint = b.checkpoint
      // What the store answers: the raised alerts as stored, so the engine can watch their escalation.
      return b.raise.map((r) => ({
        action: 'raised' as const,
        alert: {
          ...alert(r),
          deviceType: r.deviceType,
          site: r.site,
          status: 'active',
          severity: r.rule.severity,
          raisedAt: new Date(r.ts).toISOString(),
        } as Alert,
      }))
    },
  }
  return { store, raised, cleared, states, escalated }
}

let offset = 0
const batch = (records: ReadingRecord[]): Batch => {
  offset += 100
  return { records, end: { segment: 1, offset } }
}
const rec = readingRecord

const engineWith = (m: ReturnType<typeof memoryStore>, now: () => number) =>
  createAlertEngine({
    store: m.store,
    bus: createLiveBus(silent),
    rulesOf: (d) => DEVICE_TYPES[d.type as keyof typeof DEVICE_TYPES]?.rules ?? [],
    tariffPerKwh: 0.25,
    log: silent,
    now,
  })

describe('alert engine on the rule catalogue', () => {
  it("boiler-no-heat reads the site's weather sensor when the boiler has no outside sensor, and only on that site", async () => {
    const m = memoryStore()
    const engine = engineWith(m, () => T0)
    await engine.handler.load()
    const boiler = (id: string, site: string, t: number) =>
      rec(id, 'boiler', site, t, { flowTemp: 24, returnTemp: 22, pressureBar: 1.2, burnerOn: false, lockout: false, heatingDemand: true })
    await engine.handler.handle(batch([rec('wx-1', 'weather', 'estate-a', T0, { outsideTemp: 1.5 })]))
    for (let i = 1; i <= 14; i++) {
      await engine.handler.handle(
        batch([boiler('boiler-a', 'estate-a', T0 + i * 5 * MIN), boiler('boiler-b', 'estate-b', T0 + i * 5 * MIN)]),
      )
    }
    expect(m.raised.map((r) => `${r.deviceId} ${r.rule.id}`)).toEqual(['boiler-a boiler-no-heat'])
    // The site's value was saved with the engine's state, under a key no device id can take.
    expect(JSON.parse(m.states.get('@site:estate-a')!)).toEqual({ outsideTemp: [T0, 1.5] })
  })

  it('an unacknowledged boiler-no-heat escalates to critical four hours after the reading that raised it', async () => {
    const m = memoryStore()
    let now = T0
    const engine = engineWith(m, () => now)
    await engine.handler.load()
    const cold = (t: number) =>
      rec('boiler-x', 'boiler', 'estate-x', t, {
        ...{ flowTemp: 24, returnTemp: 22, pressureBar: 1.2, burnerOn: false, lockout: false },
        ...{ heatingDemand: true, outsideTemp: 1 },
      })
    for (let i = 0; i <= 13; i++) await engine.handler.handle(batch([cold(T0 + i * 5 * MIN)]))
    const raisedAt = T0 + 60 * MIN
    expect(m.raised.map((r) => [r.rule.id, r.ts])).toEqual([['boiler-no-heat', raisedAt]])
    now = raisedAt + 4 * H - 1
    await engine.tick([], now)
    expect(m.escalated).toEqual([])
    now = raisedAt + 4 * H
    await engine.tick([], now)
    expect(m.escalated).toEqual([{ id: 'a1', to: 'critical', at: now }])
    // Asked once: the store answers null once the alert is acknowledged or cleared, and it is not asked again.
    await engine.tick([], now + H)
    expect(m.escalated).toHaveLength(1)
  })

  it('energy-out-of-hours carries the wasted kWh and its cost at the configured tariff', async () => {
    const m = memoryStore()
    const engine = engineWith(m, () => T0)
    await engine.handler.load()
    let e = 5e8
    const records: ReadingRecord[] = []
    // Ten nights at 5 kW base load, days at 40 kW; on the tenth night 25 kW (lights left on) from 00:00 to 06:00.
    for (let t = T0; t < T0 + 10 * D; t += 30 * MIN) {
      const hour = (t % D) / H
      const lightsOn = t >= T0 + 9 * D && hour < 6
      const kw = lightsOn ? 25 : hour >= 7 && hour < 19 ? 40 : 5
      e += kw * 500 // Wh in half an hour
      records.push(rec('meter-1', 'meter', 'civic', t, { energyWh: e, powerW: kw * 1000 }))
    }
    for (let i = 0; i < records.length; i += 48) await engine.handler.handle(batch(records.slice(i, i + 48)))
    const ooh = m.raised.filter((r) => r.rule.id === 'energy-out-of-hours')
    expect(ooh).toHaveLength(1)
    expect(ooh[0]!.ts).toBeGreaterThanOrEqual(T0 + 9 * D + 2 * H)
    expect(ooh[0]!.ts).toBeLessThan(T0 + 9 * D + 4 * H)
    // Raised after more than an hour beyond tolerance: about (25 − 5) kW × 1 h of excess so far.
    expect(ooh[0]!.detail!.wastedKwh).toBeGreaterThanOrEqual(20)
    expect(ooh[0]!.detail!.costGbp).toBeCloseTo((ooh[0]!.detail!.wastedKwh as number) * 0.25, 2)
    expect(m.raised.filter((r) => r.rule.id !== 'energy-out-of-hours')).toEqual([])
    // When the night's window ends, the clear carries the whole night's waste: 20 kW over 2 h.
    const end = (m.cleared as { ruleId: string; detail?: Record<string, unknown> }[]).find((c) => c.ruleId === 'energy-out-of-hours')
    expect(end?.detail?.wastedKwh).toBeCloseTo(40, 0)
    expect(end?.detail?.costGbp).toBeCloseTo(10, 1)
  })

  it('a damp alert clears on clock ticks while the room sensor is quiet, and a restart mid-window keeps the window', async () => {
    const m = memoryStore()
    let now = T0
    const engine = engineWith(m, () => now)
    await engine.handler.load()
    const room = (t: number, humidity: number) => rec('room-1', 'room', 'estate-a', t, { temperature: 19, humidity })
    // 1 h 45 min over 70 %: not yet more than 2 h.
    for (let i = 0; i < 8; i++) await engine.handler.handle(batch([room(T0 + i * 15 * MIN, 75)]))
    await engine.handler.close!()
    expect(m.raised).toEqual([])

    // Restart: the window's 1 h 45 min survived, so 30 more minutes raise.
    const again = engineWith(m, () => now)
    await again.handler.load()
    await again.handler.handle(batch([room(T0 + 8 * 15 * MIN, 76), room(T0 + 9 * 15 * MIN, 60)]))
    expect(m.raised.map((r) => r.rule.id)).toEqual(['damp-mould-risk'])

    // The sensor goes quiet. Ticks slide the window; 12 h on the humid spell has left it, and two dry days
    // later (the rule's clear delay) the alert clears.
    const device = { id: 'room-1', type: 'room', site: 'estate-a', intervalS: 900 } as Device
    for (const h of [6, 13, 40]) {
      now = T0 + 9 * 15 * MIN + h * H
      await again.tick([device], now)
    }
    expect(m.cleared).toEqual([])
    now = T0 + 9 * 15 * MIN + 63 * H
    await again.tick([device], now)
    expect(m.cleared.map((c) => c.ruleId)).toEqual(['damp-mould-risk'])
  })

  it('state saved by the previous engine (threshold counts only) restores and still clears its open alert', async () => {
    const m = memoryStore()
    m.states.set('bin-1', JSON.stringify({ lastTs: T0, rules: { 'bin-full': { active: true, count: 0 } } }))
    const engine = engineWith(m, () => T0)
    await engine.handler.load()
    const bin = (t: number, f: number) => rec('bin-1', 'bin', 's', t, { fillingLevel: f, temperature: 10, batteryPct: 80, tilted: false })
    await engine.handler.handle(batch([bin(T0 + 20 * MIN, 0.2), bin(T0 + 40 * MIN, 0.2)]))
    expect(m.cleared.map((c) => c.ruleId)).toEqual(['bin-full'])
  })
})

describe('incidents in the engine', () => {
  it('groups the devices that went quiet together; one that goes quiet long after stands alone and is announced', async () => {
    const m = memoryStore()
    let now = T0
    const opened: string[] = []
    const incidents = {
      openOrJoin: async (site: string, at: number, devices: number) => {
        opened.push(site)
        const incident = {
          id: 'inc-1',
          site,
          kind: 'site-silent' as const,
          title: 't',
          status: 'open' as const,
          openedAt: new Date(at).toISOString(),
          clearedAt: null,
          devices,
          silent: devices,
        }
        return { incident, created: true }
      },
      isOpen: async () => true,
      openIncidents: async () => [],
      refresh: async () => null,
    }
    const bus = createLiveBus(silent)
    const announced: string[] = []
    bus.on('alert:raised', (a) => announced.push(a.deviceId))
    const engine = createAlertEngine({ store: m.store, bus, rulesOf: () => [], incidents, log: silent, now: () => now })
    await engine.handler.load()
    const devices = Array.from(
      { length: 6 },
      (_, i) => ({ id: `bin-${i}`, type: 'bin', site: 'street', intervalS: 60, createdAt: new Date(0).toISOString() }) as Device,
    )
    const heard = (ids: string[], at: number) =>
      engine.handler.handle(
        batch(ids.map((id) => rec(id, 'bin', 'street', at, { fillingLevel: 0.3, temperature: 10, batteryPct: 80, tilted: false }))),
      )
    await heard(
      devices.map((d) => d.id),
      T0,
    )
    // bin-5 keeps reporting for two more hours; the other five fall silent together.
    for (let k = 1; k <= 120; k++) await heard(['bin-5'], T0 + k * MIN)
    now = T0 + 4 * MIN
    await engine.checkSilence(devices, now)
    expect(opened).toEqual(['street'])
    expect(m.raised.map((r) => [r.deviceId, r.incidentId])).toEqual(devices.slice(0, 5).map((d) => [d.id, 'inc-1']))
    expect(announced).toEqual([])
    now = T0 + 124 * MIN
    await engine.checkSilence(devices, now)
    expect(m.raised.at(-1)).toMatchObject({ deviceId: 'bin-5', incidentId: undefined })
    expect(announced).toEqual(['bin-5'])
  })
})

describe('a crew marking a bin collected', () => {
  it('ends bin-not-collected at the next reading, even when the sensor saw no drop', async () => {
    const m = memoryStore()
    const schedule = CollectionSchedule.parse({ weekdays: [1, 2, 3, 4, 5, 6, 7], time: '07:00' })
    const engine = createAlertEngine({
      store: m.store,
      bus: createLiveBus(silent),
      rulesOf: () => DEVICE_TYPES.bin.rules,
      scheduleOf: () => schedule,
      log: silent,
      now: () => T0,
    })
    await engine.handler.load()
    const bin = (t: number) => rec('bin-m', 'bin', 'street', t, { fillingLevel: 0.6, temperature: 10, batteryPct: 80, tilted: false })
    for (let t = T0 + 8 * H; t <= T0 + 48 * H; t += H) await engine.handler.handle(batch([bin(t)]))
    expect(m.raised.map((r) => [r.rule.id, r.ts])).toEqual([['bin-not-collected', T0 + 48 * H]])
    await engine.noteCollection('bin-m', T0 + 48 * H + 30 * MIN)
    await engine.handler.handle(batch([bin(T0 + 49 * H)]))
    expect(m.cleared.map((c) => [c.ruleId, c.at])).toEqual([['bin-not-collected', T0 + 49 * H]])
  })
})
