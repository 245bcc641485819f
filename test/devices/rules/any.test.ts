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
    const ts = transitions(stepAny, damp, initialAnyState(), [...humid, at(11 * 15 * MIN + 13 * HOUR)])
    expect(ts.map(([, x]) => x)).toEqual(['raised', 'cleared'])
  })

  it('refuses parts that read another field, or share an id', () => {
    const bad = { ...fire, of: [fire.of[0]!, { ...fire.of[1]!, field: 'fillingLevel' }] }
    expect(AnyRule.safeParse(bad).success).toBe(false)
    expect(AnyRule.safeParse({ ...fire, of: [fire.of[0]!, fire.of[0]!] }).success).toBe(false)
  })
})
