import { describe, expect, it } from 'vitest'
import { initialWindowState, type RuleStepInput, stepWindow, WINDOW_MAX_SPANS, WindowRule } from '#devices'
import { dampRisk } from './examples.ts'
import { DAY, expectRestartSafe, HOUR, MIN, run, series, T0, ticks, transitions } from './run.ts'

const h = (hours: number, minutes = 0) => T0 + hours * HOUR + minutes * MIN
/** Bedroom humidity every 10 minutes for a day: 75 % inside the given [from, to) spans, 60 % otherwise. */
const humid = (spans: [number, number][], from = T0, to = T0 + DAY) =>
  series(from, to, 10 * MIN, (t) => (spans.some(([a, b]) => t >= a && t < b) ? 75 : 60))
const damp = (inputs: RuleStepInput[], rule: WindowRule = dampRisk) => transitions(stepWindow, rule, initialWindowState(), inputs)

describe('window rule (Approved Document F: over 70 % for more than 2 h in any 12 h)', () => {
  it('raises once more than two hours are over the level, and clears when the window has slid past', () => {
    expect(damp(humid([[h(10), h(12, 30)]]))).toEqual([
      [h(12, 10), 'raised'],
      // 2 h 30 over from 10:00; the 12-hour window holds 2 h or less from 22:30.
      [h(22, 30), 'cleared'],
    ])
  })

  it('with clearAtS, holds until the time over the level is well down (hysteresis on time)', () => {
    const rule = WindowRule.parse({ ...dampRisk, clearAtS: 3600 })
    // 2 h 30 over from 10:00: the window holds an hour or less from 23:30, not 22:30.
    expect(damp(humid([[h(10), h(12, 30)]]), rule)).toEqual([
      [h(12, 10), 'raised'],
      [h(23, 30), 'cleared'],
    ])
  })

  it('does not raise at two hours or less', () => {
    expect(damp(humid([[h(10), h(12)]]))).toEqual([])
    expect(damp(humid([[h(10), h(11, 50)]]))).toEqual([])
  })

  it('adds up separate episodes within any 12 hours, not those further apart', () => {
    expect(
      damp(
        humid([
          [h(8), h(9, 15)],
          [h(16), h(17, 15)],
        ]),
      )[0],
    ).toEqual([h(16, 50), 'raised'])
    expect(
      damp(
        humid([
          [h(8), h(9, 15)],
          [h(21), h(22, 15)],
        ]),
      ),
    ).toEqual([])
  })

  it('lets a shower spike that decays within the hour pass (domain.md §5.3 simulator shapes)', () => {
    const spike = [92, 92, 92, 92, 85, 78, 72, 65]
    const inputs = series(h(7), h(20), 10 * MIN, (t) => spike[(t - h(7)) / (10 * MIN)] ?? 55)
    expect(damp(inputs)).toEqual([])
    const veryHumid = WindowRule.parse({ ...dampRisk, id: 'humidity-very-high', level: 90, moreThanS: 3600 })
    expect(damp(inputs, veryHumid)).toEqual([])
  })

  it('does not assume the level held through a gap longer than maxGapS', () => {
    const inputs: RuleStepInput[] = [
      { t: h(10), value: 80 },
      { t: h(16), value: 60 },
    ]
    expect(damp(inputs)).toEqual([])
    const trusting = WindowRule.parse({ ...dampRisk, maxGapS: 6 * 3600 })
    expect(damp(inputs, trusting)).toEqual([[h(16), 'raised']])
  })

  it('catches a peak that fell between two readings', () => {
    const rule = WindowRule.parse({ ...dampRisk, moreThanS: 3600, windowS: 7200, maxGapS: 5400 })
    const inputs: RuleStepInput[] = [{ t: h(0), value: 80 }, { t: h(5), value: 60 }, { t: h(5, 10) }]
    expect(damp(inputs, rule)).toEqual([
      [h(5), 'raised'],
      [h(5, 10), 'cleared'],
    ])
  })

  it('counts real hours across the October clock change (01:00–02:00 happens twice)', () => {
    const from = Date.parse('2026-10-24T20:00:00Z')
    // 23:00 UTC is 00:00 BST; 01:30 UTC is 01:30 GMT: 2.5 real hours, 1.5 on the clock.
    const inputs = humid([[Date.parse('2026-10-24T23:00:00Z'), Date.parse('2026-10-25T01:30:00Z')]], from, from + 12 * HOUR)
    expect(damp(inputs)[0]).toEqual([Date.parse('2026-10-25T01:10:00Z'), 'raised'])
  })

  it('counts real hours across the March clock change (01:00–02:00 never happens)', () => {
    const from = Date.parse('2026-03-28T20:00:00Z')
    // 00:00 GMT to 02:30 BST: 2.5 hours on the clock, 1.5 real hours.
    const inputs = humid([[Date.parse('2026-03-29T00:00:00Z'), Date.parse('2026-03-29T01:30:00Z')]], from, from + 12 * HOUR)
    expect(damp(inputs)).toEqual([])
  })

  it('clears on clock ticks while the sensor is quiet', () => {
    const inputs = [...humid([[h(10), h(12, 30)]], T0, h(13)), ...ticks(h(13), h(24), 30 * MIN)]
    expect(damp(inputs)).toEqual([
      [h(12, 10), 'raised'],
      [h(22, 30), 'cleared'],
    ])
  })

  it('keeps a bounded number of spans when the value flaps every reading', () => {
    const inputs = series(T0, T0 + 3 * DAY, 10 * MIN, (t) => (((t - T0) / (10 * MIN)) % 2 ? 75 : 60))
    const { state, results } = run(stepWindow, dampRisk, initialWindowState(), inputs)
    expect(state.spans.length).toBeLessThanOrEqual(WINDOW_MAX_SPANS)
    // Half of every 12 hours is over the level: 6 h, raised once, never cleared.
    expect(results.filter((r) => r.transition).map((r) => r.transition)).toEqual(['raised'])
    expect(results.at(-1)!.value).toBeGreaterThanOrEqual(6 * 3600)
  })

  it('ignores input no newer than the newest', () => {
    const { state } = run(stepWindow, dampRisk, initialWindowState(), humid([[h(10), h(11)]], T0, h(12)))
    for (const t of [h(11), state.now!]) expect(stepWindow(dampRisk, state, { t, value: 99 }).state).toBe(state)
  })

  it('gives the same transitions when restarted anywhere', () => {
    const inputs = [
      ...humid(
        [
          [h(3), h(4)],
          [h(9), h(11, 30)],
        ],
        T0,
        h(14),
      ),
      ...ticks(h(14), h(24), 20 * MIN),
    ]
    expectRestartSafe(stepWindow, dampRisk, initialWindowState(), inputs)
  })

  it('refuses a window no longer than the time allowed in it', () => {
    expect(WindowRule.safeParse({ ...dampRisk, moreThanS: 43_200 }).success).toBe(false)
    expect(WindowRule.safeParse({ ...dampRisk, clearAtS: 9000 }).success).toBe(false)
  })
})
