import { describe, expect, it } from 'vitest'
import {
  escalatesAt,
  initialRuleState,
  RULE_KINDS,
  Rule,
  type RuleStepInput,
  restoreRuleState,
  severityAt,
  stepRule,
  stepWindow,
} from '#devices'
import { boilerNoHeat, dampRisk, EXAMPLES, outOfHours } from './examples.ts'
import { HOUR, MIN, run, series, T0 } from './run.ts'

describe('Rule (discriminated union by kind)', () => {
  it('has an example of every kind, each a valid rule with plain-English text', () => {
    expect(new Set(EXAMPLES.map((r) => r.kind))).toEqual(new Set(RULE_KINDS))
    for (const r of EXAMPLES) {
      expect(Rule.parse(JSON.parse(JSON.stringify(r)))).toEqual(r)
      expect(r.text.length).toBeGreaterThan(20)
    }
  })

  it('fills defaults and refuses unknown kinds, bad ids, missing text and bad time zones', () => {
    const r = Rule.parse({ kind: 'silence', id: 'x', title: 'X', text: 'x', severity: 'info' })
    expect(r).toMatchObject({ kind: 'silence', missed: 3 })
    expect(Rule.safeParse({ ...r, kind: 'sometimes' }).success).toBe(false)
    expect(Rule.safeParse({ ...r, id: 'Not An Id' }).success).toBe(false)
    expect(Rule.safeParse({ ...r, text: '' }).success).toBe(false)
    expect(Rule.safeParse({ ...outOfHours, timeZone: 'Europe/Atlantis' }).success).toBe(false)
    expect(Rule.safeParse({ ...outOfHours, from: '25:00' }).success).toBe(false)
  })

  it('steps any rule through one entry point, as its own step would', () => {
    const inputs = series(T0, T0 + 14 * HOUR, 10 * MIN, (t) => (t >= T0 + 9 * HOUR ? 80 : 50))
    let state = initialRuleState(dampRisk)
    const viaUnion = inputs.map((i) => {
      const r = stepRule(dampRisk, state, i)
      state = r.state
      return r.transition
    })
    expect(viaUnion).toEqual(run(stepWindow, dampRisk, initialRuleState(dampRisk), inputs).results.map((r) => r.transition))
    expect(viaUnion).toContain('raised')
  })

  it('restores saved state of the right kind, and starts fresh from anything else', () => {
    const input: RuleStepInput = { t: T0, value: 80 }
    const saved = JSON.parse(JSON.stringify(stepRule(dampRisk, initialRuleState(dampRisk), input).state))
    expect(restoreRuleState(dampRisk, saved)).toEqual(saved)
    expect(restoreRuleState(dampRisk, { active: true, count: 0 })).toEqual(initialRuleState(dampRisk))
    expect(restoreRuleState(dampRisk, null)).toEqual(initialRuleState(dampRisk))
    expect(restoreRuleState(dampRisk, 'garbage')).toEqual(initialRuleState(dampRisk))
  })
})

describe('escalation', () => {
  const raisedAt = T0
  it('raises the severity after the delay while nobody has acknowledged', () => {
    expect(escalatesAt(boilerNoHeat, raisedAt)).toBe(T0 + HOUR)
    expect(severityAt(boilerNoHeat, { raisedAt, acknowledgedAt: null }, T0 + 59 * MIN)).toBe('warning')
    expect(severityAt(boilerNoHeat, { raisedAt, acknowledgedAt: null }, T0 + HOUR)).toBe('critical')
  })

  it('stops if acknowledged in time, and is not undone by a later acknowledgement', () => {
    expect(severityAt(boilerNoHeat, { raisedAt, acknowledgedAt: T0 + 30 * MIN }, T0 + 2 * HOUR)).toBe('warning')
    expect(severityAt(boilerNoHeat, { raisedAt, acknowledgedAt: T0 + 90 * MIN }, T0 + 2 * HOUR)).toBe('critical')
  })

  it('never happens for a rule without one', () => {
    expect(escalatesAt(dampRisk, raisedAt)).toBeNull()
    expect(severityAt(dampRisk, { raisedAt, acknowledgedAt: null }, T0 + 1000 * HOUR)).toBe('warning')
  })
})
