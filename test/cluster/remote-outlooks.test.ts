import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { DEVICE_TYPES } from '#devices'
import { createAlertEngine, type EngineDevice, outlookOfStored } from '../../alerts/engine.ts'
import { createClusterOutlooks } from '../../cluster/remote-outlooks.ts'
import { createLiveBus } from '../../service/live-bus.ts'
import { committingStore, readingRecord } from '../helpers/engine-records.ts'

// Cluster mode (issue 15): a bin whose partition another node reads gets its outlook from the state that node committed.
const silent = pino({ level: 'silent' })
const H = 3_600_000
const T0 = Date.UTC(2026, 10, 2, 6)
const RULE = 'bin-full-before-collection'
const rulesOf = (d: EngineDevice) => DEVICE_TYPES[d.type as keyof typeof DEVICE_TYPES]?.rules ?? []
const ruleOf = (d: EngineDevice) => rulesOf(d).find((r) => r.id === RULE)

/** An engine over a store in memory, fed a bin filling 2 % an hour for 20 hours; the states it committed. */
async function ownerOf(bin: EngineDevice) {
  const { store, states } = committingStore()
  let now = T0
  const engine = createAlertEngine({ store, bus: createLiveBus(silent), rulesOf, log: silent, now: () => now })
  await engine.handler.load()
  for (let i = 0; i <= 20; i++) {
    // Past the engine's commit interval each time, so every batch's state is committed.
    now += 1_000
    const r = readingRecord(bin.id, bin.type, bin.site, T0 + i * H, {
      fillingLevel: Math.round((0.3 + 0.02 * i) * 1000) / 1000,
      temperature: 9,
      batteryPct: 80,
      tilted: false,
    })
    await engine.handler.handle({ records: [r], end: { segment: 1, offset: (i + 1) * 100 } })
  }
  return { engine, states }
}

describe('bin outlooks across the nodes of a cluster', () => {
  const bin: EngineDevice = { id: 'bin-far', type: 'bin', site: 'mill-road' }

  it('reads from a committed state the outlook the owning engine gives', async () => {
    const { engine, states } = await ownerOf(bin)
    const own = engine.outlook(bin, RULE)
    expect(own?.ratePerDay).toBeCloseTo(0.48, 2)
    expect(outlookOfStored(ruleOf(bin), states.get(bin.id))).toEqual(own)
    // No state, a state that is not JSON, or a rule that is no forecast: no outlook, no exception.
    expect(outlookOfStored(ruleOf(bin), undefined)).toBeNull()
    expect(outlookOfStored(ruleOf(bin), '{"lastTs":')).toBeNull()
    expect(
      outlookOfStored(
        rulesOf(bin).find((r) => r.id === 'bin-full'),
        states.get(bin.id),
      ),
    ).toBeNull()
  })

  it('answers owned bins from the engine, the others from the store, once per window for a whole list', async () => {
    const { engine, states } = await ownerOf(bin)
    const near: EngineDevice = { id: 'bin-near', type: 'bin', site: 'mill-road' }
    const gone: EngineDevice = { id: 'bin-unread', type: 'bin', site: 'mill-road' }
    const asked: string[][] = []
    let now = T0
    const outlooks = createClusterOutlooks({
      local: (d) => (d.id === near.id ? { ratePerDay: 1, level: 0.5, at: null, reachesAt: null } : null),
      owns: (id) => id === near.id,
      statesOf: async (ids) => {
        asked.push([...ids])
        return new Map([...states].filter(([id]) => ids.includes(id)))
      },
      rulesOf,
      ruleId: RULE,
      maxAgeMs: 2_000,
      now: () => now,
    })
    const want = [{ ratePerDay: 1, level: 0.5, at: null, reachesAt: null }, engine.outlook(bin, RULE), null]
    expect(await outlooks([near, bin, gone])).toEqual(want)
    // One query, for the bins this node does not read.
    expect(asked).toEqual([[bin.id, gone.id]])
    now += 1_000
    expect(await outlooks([near, bin, gone])).toEqual(want)
    expect(asked).toHaveLength(1)
    // Past the window, asked again; two lists asked together make one query.
    now += 1_500
    const [one, two] = await Promise.all([outlooks([bin]), outlooks([bin, near])])
    expect(asked).toEqual([[bin.id, gone.id], [bin.id]])
    expect(one).toEqual([want[1]])
    expect(two).toEqual([want[1], want[0]])
  })
})
