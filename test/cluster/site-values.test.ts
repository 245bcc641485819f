import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { DEVICE_TYPES } from '#devices'
import { createAlertEngine, type EngineDevice } from '../../alerts/engine.ts'
import { createLiveBus } from '../../service/live-bus.ts'
import { committingStore, readingRecord } from '../helpers/engine-records.ts'

// Cluster mode (issue 15): a site's weather sensor and its boilers may be read by different partitions' engines.
const silent = pino({ level: 'silent' })
const MIN = 60_000
const T0 = Date.UTC(2026, 10, 2)
const rulesOf = (d: EngineDevice) => DEVICE_TYPES[d.type as keyof typeof DEVICE_TYPES]?.rules ?? []

const rec = readingRecord
const cold = (t: number) =>
  rec('boiler-a', 'boiler', 'estate-a', t, {
    flowTemp: 24,
    returnTemp: 22,
    pressureBar: 1.2,
    burnerOn: false,
    lockout: false,
    heatingDemand: true,
  })

/** The engine of the partition holding boiler-a only; what it raised and saved. */
async function boilerPartition() {
  const { store, raised, states } = committingStore()
  let now = T0
  const engine = createAlertEngine({
    store,
    bus: createLiveBus(silent),
    rulesOf,
    log: silent,
    now: () => now,
    owns: (id) => id === 'boiler-a',
    reader: 'alerts@p1',
  })
  await engine.handler.load()
  const boilerReadings = async () => {
    for (let i = 1; i <= 14; i++) {
      now += 1_000
      await engine.handler.handle({ records: [cold(T0 + i * 5 * MIN)], end: { segment: 1, offset: i * 100 } })
    }
  }
  return { engine, raised, states, boilerReadings }
}

describe("a site's values across partitions", () => {
  it("lets a boiler use the outside temperature of a weather sensor another partition's engine reads", async () => {
    const p = await boilerPartition()
    await p.engine.noteSite(rec('wx-1', 'weather', 'estate-a', T0, { outsideTemp: 1.5 }))
    // Another site's weather is no use to it.
    await p.engine.noteSite(rec('wx-2', 'weather', 'estate-b', T0, { outsideTemp: -3 }))
    await p.boilerReadings()
    expect(p.raised.map((r) => `${r.deviceId} ${r.rule.id}`)).toEqual(['boiler-a boiler-no-heat'])
    // Not saved: the site's row is the weather sensor's partition's to write (several engines writing one row could
    // put back an older value, or deadlock on PostgreSQL).
    expect([...p.states.keys()].filter((k) => k.startsWith('@site:'))).toEqual([])
  })

  it('without it, the boiler has no outside temperature and raises nothing', async () => {
    const p = await boilerPartition()
    await p.boilerReadings()
    expect(p.raised).toEqual([])
  })

  it('keeps the newer value, and takes nothing from a device of its own partition (its reader brings those in order)', async () => {
    const p = await boilerPartition()
    await p.engine.noteSite(rec('wx-1', 'weather', 'estate-a', T0, { outsideTemp: 1.5 }))
    // Older, and mild: were it kept, the day would not be cold and nothing would be raised.
    await p.engine.noteSite(rec('wx-1', 'weather', 'estate-a', T0 - 10 * MIN, { outsideTemp: 12 }))
    await p.engine.noteSite(rec('boiler-a', 'weather', 'estate-a', T0 + MIN, { outsideTemp: 15 }))
    await p.boilerReadings()
    expect(p.raised.map((r) => `${r.deviceId} ${r.rule.id}`)).toEqual(['boiler-a boiler-no-heat'])
  })

  it('a mild day told by another partition raises nothing', async () => {
    const p = await boilerPartition()
    await p.engine.noteSite(rec('wx-1', 'weather', 'estate-a', T0, { outsideTemp: 12 }))
    await p.boilerReadings()
    expect(p.raised).toEqual([])
  })
})
