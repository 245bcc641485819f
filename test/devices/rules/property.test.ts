import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { initialRuleState, Rule, type RuleStepInput, restoreRuleState, stepRule } from '#devices'
import { aboveBaseline, binBeforeCollection, dampRisk, EXAMPLES, lockoutsRepeated, outOfHours, pressureFalling } from './examples.ts'
import { DAY, HOUR, T0 } from './run.ts'

/** Variants that reach the less-travelled branches: wrap-around periods, readings mode, tiny windows. */
const VARIANTS: Rule[] = [
  Rule.parse({ ...outOfHours, from: '19:00', to: '07:00', compare: 'period', sameWeekday: true, periods: 8, minPeriods: 1 }),
  Rule.parse({ ...aboveBaseline, direction: 'below', minPeriods: 1, marginRatio: 0, compare: 'reading' }),
  Rule.parse({ ...dampRisk, windowS: 120, moreThanS: 60, maxGapS: 30 }),
  Rule.parse({ ...lockoutsRepeated, counts: 'readings', atLeast: 100, windowS: 60, maxGapS: 1 }),
  Rule.parse({ ...pressureFalling, windowS: 60, minSpanS: 0, minPoints: 2, forS: 10, clearForS: 10 }),
  Rule.parse({ ...binBeforeCollection, direction: 'below', withinS: 60, minPoints: 3, minSpanS: 0, windowS: 600 }),
]
const RULES = [...EXAMPLES, ...VARIANTS]

const anyNumber = fc.double({ noNaN: false })
const input = fc.record(
  {
    gap: fc.oneof(fc.integer({ min: -HOUR, max: 2 * DAY }), fc.integer({ min: 1, max: 600_000 }), anyNumber),
    /** An input at an arbitrary time, out of the running order. */
    stray: fc.option(anyNumber, { nil: undefined }),
    value: fc.oneof(fc.double({ min: -10, max: 110, noNaN: true }), anyNumber, fc.constant(undefined)),
    before: fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 7 * DAY }), anyNumber),
    intervalS: fc.oneof(fc.constant(undefined), fc.integer({ min: 1, max: 3600 }), anyNumber),
  },
  { requiredKeys: ['gap'] },
)
type Raw = {
  gap: number
  stray?: number | undefined
  value?: number | undefined
  before?: number | undefined
  intervalS?: number | undefined
}

/** Mostly forward in time with gaps of any size, some steps back, some strays; deadlines near t or anywhere. */
function toInputs(raw: Raw[]): RuleStepInput[] {
  let t = T0
  return raw.map(({ gap, stray, value, before, intervalS }) => {
    if (Number.isFinite(t + gap)) t += gap
    const at = stray ?? t
    const deadline = before === undefined || Math.abs(before) > 7 * DAY ? before : at + before
    return { t: at, value, before: deadline, intervalS }
  })
}

function finiteOnly(x: unknown): boolean {
  if (typeof x === 'number') return Number.isFinite(x)
  if (Array.isArray(x)) return x.every(finiteOnly)
  if (x && typeof x === 'object') return Object.values(x).every(finiteOnly)
  return x === null || typeof x === 'boolean' || typeof x === 'string'
}

/** Largest JSON a state may reach, from each kind's caps (spans, points, buckets, events, past periods). */
const MAX_STATE_CHARS = 12_000

describe('every rule kind, on any input', () => {
  it('never throws, keeps state JSON-exact and bounded', () => {
    fc.assert(
      fc.property(fc.constantFrom(...RULES), fc.array(input, { maxLength: 150 }), (rule, raw) => {
        let state = initialRuleState(rule)
        for (const i of toInputs(raw)) {
          const r = stepRule(rule, state, i)
          expect(r.transition === null || r.transition === 'raised' || r.transition === 'cleared').toBe(true)
          state = r.state
          expect(finiteOnly(state)).toBe(true)
        }
        const text = JSON.stringify(state)
        expect(text.length).toBeLessThan(MAX_STATE_CHARS)
        expect(JSON.stringify(restoreRuleState(rule, JSON.parse(text)))).toBe(text)
      }),
      { numRuns: 300 },
    )
  })

  it('stays bounded over a long, busy stream', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...RULES),
        fc.array(fc.tuple(fc.integer({ min: 1_000, max: 2 * HOUR }), fc.double({ min: 0, max: 100, noNaN: true })), {
          minLength: 3000,
          maxLength: 3000,
        }),
        (rule, steps) => {
          let state = initialRuleState(rule)
          let t = T0
          for (const [gap, value] of steps) {
            t += gap
            state = stepRule(rule, state, { t, value, before: t + DAY, intervalS: 300 }).state
          }
          expect(JSON.stringify(state).length).toBeLessThan(MAX_STATE_CHARS)
        },
      ),
      { numRuns: 20 },
    )
  })
})
