import { describe, expect, it } from 'vitest'
import { AnyRule, DEVICE_TYPES, initialAnyState, type RuleStepInput, stepAny } from '#devices'
import { expectRestartSafe, HOUR, MIN, T0, transitions } from './run.ts'

const fire = DEVICE_TYPES.bin.rules.find((r) => r.id === 'bin-fire') as AnyRule
const damp = DEVICE_TYPES.room.rules.find((r) => r.id === 'damp-mould-risk') as AnyRule
const at = (ms: number, value?: number): RuleStepInput => ({ t: T0 + ms, value })

describe('any: one alert from several conditions', () => {
  it('raises once when two parts trip together, and names the part that did', () => {
    const r = stepAny(fire, initialAnyState(), at(0, 12))
    const r2 = stepAny(fire, r.state, at(20 * MIN, 70))
    expect(r2.transition).toBe('raised')
    expect(Object.keys(r2.detail ?? {}).some((k) => k.startsWith('part:'))).toBe(true)
  })

  it('stays open while any part is active', () => {
    // 60 → 70 °C: the hot part raised; no rise part. 44 °C clears the hot part; the fall is no rise: cleared.
    expect(transitions(stepAny, fire, initialAnyState(), [at(0, 59), at(20 * MIN, 70), at(40 * MIN, 72), at(60 * MIN, 44)])).toEqual([
      [T0 + 20 * MIN, 'raised'],
      [T0 + 60 * MIN, 'cleared'],
    ])
  })

  it('readings out of order and repeated are not evaluated', () => {
    const inputs = [at(0, 12), at(40 * MIN, 14), at(20 * MIN, 70), at(40 * MIN, 70), at(60 * MIN, 15)]
    expect(transitions(stepAny, fire, initialAnyState(), inputs)).toEqual([])
  })

  it('bin-fire: a reading without temperature leaves every part as it was (no clear, no rise reference, no run)', () => {
    // 10 → 62 °C opens it on both parts; 63 °C starts the rise part's hour of small changes towards clearing.
    let s = initialAnyState()
    for (const i of [at(0, 10), at(20 * MIN, 62), at(40 * MIN, 63)]) s = stepAny(fire, s, i).state
    const before = structuredClone(s)
    const gap = stepAny(fire, s, at(60 * MIN))
    expect(gap.transition).toBeNull()
    expect(gap.state).toEqual(before)
    // The next reading with a temperature is measured against 63 °C, the last one that had one.
    expect(gap.state.parts.rising).toMatchObject({ ref: { t: T0 + 40 * MIN, v: 63 } })
  })

  it('a gap longer than the rise part allows is no rise', () => {
    expect(transitions(stepAny, fire, initialAnyState(), [at(0, 10), at(5 * HOUR, 40)])).toEqual([])
  })

  it('a restart before any input gives the same transitions (the state survives JSON, as the checkpoint keeps it)', () => {
    const humid = Array.from({ length: 60 }, (_, i) => at(i * 15 * MIN, i < 12 ? 75 : i < 20 ? 93 : 50))
    expectRestartSafe(stepAny, damp, initialAnyState(), humid)
    const hot = [12, 13, 70, 72, 50, 40, 30, 25, 20, 20].map((c, i) => at(i * 20 * MIN, c))
    expectRestartSafe(stepAny, fire, initialAnyState(), hot)
  })

  it('a clock tick (no value) slides the damp windows so the alert can clear while the sensor is quiet', () => {
    const humid = Array.from({ length: 12 }, (_, i) => at(i * 15 * MIN, 78))
    // 13 h on the windows are empty; the alert clears once they have been for the rule's two days.
    const last = 11 * 15 * MIN
    const ticks = [at(last + 13 * HOUR), at(last + 13 * HOUR + 47 * HOUR), at(last + 13 * HOUR + 48 * HOUR)]
    const ts = transitions(stepAny, damp, initialAnyState(), [...humid, ...ticks])
    expect(ts).toEqual([
      [T0 + 9 * 15 * MIN, 'raised'], // more than 2 h over 70 %: the tenth reading
      [T0 + last + 61 * HOUR, 'cleared'],
    ])
  })

  it('clearForS: a spell that returns within it keeps the one alert open', () => {
    const night = (d: number) => Array.from({ length: 16 }, (_, i) => at(d * 24 * HOUR + i * 30 * MIN, 78))
    const day = (d: number) => Array.from({ length: 20 }, (_, i) => at(d * 24 * HOUR + 10 * HOUR + i * 30 * MIN, 55))
    const inputs = [...night(0), ...day(0), ...night(1), ...day(1), ...night(2)]
    expect(transitions(stepAny, damp, initialAnyState(), inputs).map(([, x]) => x)).toEqual(['raised'])
  })

  it('refuses parts that read another field, or share an id', () => {
    const bad = { ...fire, of: [fire.of[0]!, { ...fire.of[1]!, field: 'fillingLevel' }] }
    expect(AnyRule.safeParse(bad).success).toBe(false)
    expect(AnyRule.safeParse({ ...fire, of: [fire.of[0]!, fire.of[0]!] }).success).toBe(false)
  })
})
