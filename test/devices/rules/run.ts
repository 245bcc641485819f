import { expect } from 'vitest'
import type { RuleStepInput, RuleStepResult } from '#devices'

export const MIN = 60_000
export const HOUR = 3_600_000
export const DAY = 86_400_000
/** Monday 5 January 2026, midnight UTC (and London). */
export const T0 = Date.parse('2026-01-05T00:00:00Z')

type Step<R, S> = (rule: R, state: S, input: RuleStepInput) => RuleStepResult<S>

/** Runs inputs through a step; with `restartAt`, the state goes through JSON before that input, as a checkpoint would. */
export function run<R, S>(step: Step<R, S>, rule: R, initial: S, inputs: readonly RuleStepInput[], restartAt?: number) {
  let state = initial
  const results = inputs.map((input, i) => {
    if (i === restartAt) state = JSON.parse(JSON.stringify(state)) as S
    const r = step(rule, state, input)
    state = r.state
    return r
  })
  return { results, state }
}

/** [t, transition] for each input that caused one. */
export function transitions<R, S>(step: Step<R, S>, rule: R, initial: S, inputs: readonly RuleStepInput[]) {
  const { results } = run(step, rule, initial, inputs)
  return results.flatMap((r, i) => (r.transition ? [[inputs[i]!.t, r.transition] as const] : []))
}

/** What a caller sees of a step: everything but the state. */
const visible = (rs: RuleStepResult<unknown>[]) =>
  JSON.stringify(rs.map(({ transition, value, detail }) => ({ transition, value, detail })))

/** Restarting before any input gives the same transitions, values and details as running straight through. */
export function expectRestartSafe<R, S>(step: Step<R, S>, rule: R, initial: S, inputs: readonly RuleStepInput[], every = 1) {
  const straight = visible(run(step, rule, initial, inputs).results)
  expect(straight).toContain('"raised"')
  for (let k = 1; k < inputs.length; k += every) {
    expect(visible(run(step, rule, initial, inputs, k).results), `restart before input ${k}`).toBe(straight)
  }
}

/** Readings every `everyMs` from `from` (inclusive) to `to` (exclusive), value from a function of time. */
export function series(from: number, to: number, everyMs: number, value: (t: number) => number | undefined): RuleStepInput[] {
  const out: RuleStepInput[] = []
  for (let t = from; t < to; t += everyMs) out.push({ t, value: value(t) })
  return out
}

/** Clock ticks (no value). */
export const ticks = (from: number, to: number, everyMs: number) => series(from, to, everyMs, () => undefined)

/** A deterministic wobble in [-1, 1], so tests need no random seed. */
export const wobble = (i: number) => Math.sin(i * 12.9898) * 0.5 + Math.sin(i * 78.233) * 0.5

export const iso = (t: number) => new Date(t).toISOString()
