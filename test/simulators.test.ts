import { describe, expect, it } from 'vitest'
import { DEVICE_TYPE_NAMES, DEVICE_TYPES, type DeviceType, decodeTelemetry } from '#devices'
import { heatingDemanded } from '../simulators/models/boiler.ts'
import { createModel } from '../simulators/models/index.ts'
import { createRng } from '../simulators/rng.ts'
import { SCENARIOS } from '../simulators/scenarios/catalog.ts'
import { planScenario } from '../simulators/scenarios/plan.ts'

const DAY = 86_400_000
const HOUR = 3_600_000
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

  it.each(DEVICE_TYPE_NAMES)('%s readings always pass the schema', (type) => {
    for (const seed of [1, 2, 3]) {
      for (const { at: _at, ...r } of week(type, seed)) {
        const d = decodeTelemetry(new TextEncoder().encode(JSON.stringify({ readings: r })), DEVICE_TYPES[type], 0)
        expect(d.outcome, JSON.stringify(r)).toBe('accepted')
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

  it('a boiler asks for heat in its programme (06–09, 17–22) and reports outside temperature only with an OpenTherm sensor', () => {
    const plain = week('boiler', 3)
    expect(plain.every((r) => r.heatingDemand === heatingDemanded(new Date(r.at).getUTCHours()))).toBe(true)
    expect(plain.some((r) => r.heatingDemand === true)).toBe(true)
    expect(plain.some((r) => 'outsideTemp' in r)).toBe(false)
    const sensed = week('boiler', 3, { outside: {} })
    expect(sensed.every((r) => typeof r.outsideTemp === 'number' && r.outsideTemp > -5 && r.outsideTemp < 20)).toBe(true)
  })

  it('a boiler with no heat leaves the flow cold while heating is demanded, and runs again after', () => {
    const readings = week('boiler', 4, { noHeatFrom: start + DAY, noHeatUntil: start + 2 * DAY })
    const demanded = (from: number, to: number) => readings.filter((r) => r.at >= from && r.at < to && r.heatingDemand)
    expect(demanded(start + DAY, start + 2 * DAY).every((r) => !r.burnerOn && (r.flowTemp as number) < 35)).toBe(true)
    expect(demanded(start + 2 * DAY, start + 3 * DAY).every((r) => r.burnerOn && (r.flowTemp as number) > 55)).toBe(true)
  })

  it('a cold snap keeps the outside under 5 °C and freezing before dawn, and ordinary November days are milder', () => {
    const snap = { from: start + 2 * DAY, to: start + 4 * DAY }
    const readings = week('weather', 2, { coldSnap: snap })
    const during = readings.filter((r) => r.at >= snap.from && r.at < snap.to)
    expect(during.every((r) => (r.outsideTemp as number) < 5)).toBe(true)
    expect(during.filter((r) => new Date(r.at).getUTCHours() === 4).every((r) => (r.outsideTemp as number) < 0)).toBe(true)
    const ordinary = readings.filter((r) => r.at < snap.from - 6 * HOUR || r.at >= snap.to + 6 * HOUR)
    const mean = ordinary.reduce((s, r) => s + (r.outsideTemp as number), 0) / ordinary.length
    expect(mean).toBeGreaterThan(5)
    expect(mean).toBeLessThan(11)
    // The same cold snap reaches a boiler's OpenTherm outside sensor.
    const boiler = week('boiler', 2, { outside: { coldSnap: snap } }).filter((r) => r.at >= snap.from && r.at < snap.to)
    expect(boiler.every((r) => (r.outsideTemp as number) < 5)).toBe(true)
  })

  it('a risk bedroom reads 72–80 % overnight at 14–16 °C; a healthy one 40–60 % at 18–21 °C (domain.md §5.3)', () => {
    const asleep = (r: { at: number }) => {
      const h = new Date(r.at).getUTCHours()
      return h >= 23 || h < 7
    }
    const risk = week('room', 5, { room: 'bedroom', risk: true }).filter(asleep)
    expect(risk.every((r) => (r.humidity as number) >= 72 && (r.humidity as number) < 80)).toBe(true)
    expect(risk.every((r) => (r.temperature as number) >= 14 && (r.temperature as number) <= 16)).toBe(true)
    const healthy = week('room', 5, { room: 'bedroom', risk: false })
    expect(healthy.every((r) => (r.humidity as number) >= 40 && (r.humidity as number) <= 60)).toBe(true)
    expect(healthy.every((r) => (r.temperature as number) >= 18 && (r.temperature as number) <= 21)).toBe(true)
  })

  it('a bathroom spikes after each shower and is back near its usual humidity within the hour', () => {
    const readings = week('room', 6, { room: 'bathroom', risk: false, showers: [7], intervalMs: 60_000 })
    for (let d = 0; d < 7; d++) {
      const day = readings.filter((r) => r.at >= start + d * DAY && r.at < start + (d + 1) * DAY)
      const peak = day.reduce((a, r) => ((r.humidity as number) > (a.humidity as number) ? r : a))
      expect(peak.humidity as number).toBeGreaterThanOrEqual(88)
      const hourLater = day.find((r) => r.at >= peak.at + HOUR)!
      expect(hourLater.humidity as number).toBeLessThan(62)
    }
  })

  it('a meter register rolls over once, and missed reads leave a gap whose energy the next read carries', () => {
    const m = createModel('meter', createRng(9), start, {
      peakW: 30_000,
      baseShare: 0.15,
      rolloverWh: 1e9,
      startWh: 1e9 - 500_000,
      missed: [{ from: start + 2 * DAY, to: start + 2 * DAY + 6 * HOUR }],
    })
    const readings: { at: number; energyWh: number; powerW: number }[] = []
    for (let t = start; t < start + 7 * DAY; t += m.intervalMs / 4) {
      const e = m.tick(t)
      if (e?.readings) readings.push({ at: t, ...(e.readings as { energyWh: number; powerW: number }) })
    }
    const drops = readings.slice(1).filter((r, i) => r.energyWh < readings[i]!.energyWh)
    expect(drops).toHaveLength(1)
    const gaps = readings.slice(1).filter((r, i) => r.at - readings[i]!.at > HOUR)
    expect(gaps).toHaveLength(1)
    const before = readings[readings.indexOf(gaps[0]!) - 1]!
    // Energy is conserved across the gap: the catch-up half-hour's power is the whole gap's energy.
    expect(gaps[0]!.powerW * 0.5).toBeCloseTo(gaps[0]!.energyWh - before.energyWh, -1)
  })

  it("a meter's night baseload varies by a few per cent, well inside the out-of-hours tolerance (20 % + 1 kW)", () => {
    const nights = new Map<number, number[]>()
    for (const r of week('meter', 12, { peakW: 40_000, baseShare: 0.15 })) {
      const h = new Date(r.at).getUTCHours()
      if (h >= 2 && h < 4) nights.set(Math.floor(r.at / DAY), [...(nights.get(Math.floor(r.at / DAY)) ?? []), r.powerW as number])
    }
    const all = [...nights.values()].flat()
    expect(nights.size).toBe(7)
    expect(Math.max(...all) / Math.min(...all)).toBeLessThan(1.15)
    expect(Math.min(...all)).toBeGreaterThan(40_000 * 0.15 * 0.9)
  })
})
