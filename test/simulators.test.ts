import { describe, expect, it } from 'vitest'
import { DEVICE_TYPES, type DeviceType, decodeTelemetry } from '#devices'
import { createModel } from '../simulators/models/index.ts'
import { createRng } from '../simulators/rng.ts'
import { SCENARIOS } from '../simulators/scenarios/catalog.ts'
import { planScenario } from '../simulators/scenarios/plan.ts'

const DAY = 86_400_000
const start = Date.UTC(2026, 10, 2)

const week = (type: DeviceType, seed: number, options: object = {}) => {
  const m = createModel(type, createRng(seed), start, options)
  const out: (Record<string, unknown> & { at: number })[] = []
  for (let t = start; t < start + 7 * DAY; t += m.intervalMs / 4) {
    const e = m.tick(t)
    if (e?.readings) out.push({ ...e.readings, at: t })
  }
  return out
}

describe('simulator models', () => {
  it('are repeatable for a seed and differ between seeds', () => {
    expect(week('bin', 7)).toEqual(week('bin', 7))
    expect(week('boiler', 7)).not.toEqual(week('boiler', 8))
    expect(planScenario(SCENARIOS[0]!, 3).alerts).toEqual(planScenario(SCENARIOS[0]!, 3).alerts)
  })

  it.each(['bin', 'boiler', 'meter'] as const)('%s readings always pass the schema', (type) => {
    for (const seed of [1, 2, 3]) {
      for (const { at: _at, ...r } of week(type, seed)) {
        const d = decodeTelemetry(new TextEncoder().encode(JSON.stringify({ readings: r })), DEVICE_TYPES[type], 0)
        expect(d.outcome, JSON.stringify(r)).not.toBe('rejected')
      }
    }
  })

  it('bins fill in a sawtooth: they rise, and are emptied on collection day with a tilt blip', () => {
    const readings = week('bin', 11, { outlierRate: 0, lidOpenRate: 0, ratePerDay: 0.2, startFill: 0.3, collectionDays: [3] })
    const drops = readings.filter((r, i) => i > 0 && (readings[i - 1]!.fillingLevel as number) - (r.fillingLevel as number) > 0.2)
    expect(drops.map((r) => new Date(r.at).getUTCDay())).toEqual([3])
    expect(drops[0]!.tilted).toBe(true)
    expect(readings.filter((r) => r.tilted)).toHaveLength(1)
    const rising = readings.filter(
      (r, i) => i > 0 && r !== drops[0] && (r.fillingLevel as number) >= (readings[i - 1]!.fillingLevel as number),
    )
    expect(rising.length).toBe(readings.length - 2)
  })

  it('a boiler with a slow leak ends in the low-pressure lockout with its fault code', () => {
    const readings = week('boiler', 5, { coldPressure: 1.2, leakFrom: start, leakBarPerDay: 0.15 })
    const last = readings.at(-1)!
    expect(last).toMatchObject({ lockout: true, faultCode: 'E119', burnerOn: false })
    expect(last.pressureBar as number).toBeLessThan(0.5)
  })
})
