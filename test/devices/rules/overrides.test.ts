import { describe, expect, it } from 'vitest'
import { type Rule, Rule as RuleSchema, type RuleSpec } from '#devices'
import { applyOverrides, checkOverride, effectiveRule, RuleOverride, type RuleOverrideInput } from '../../../devices/rules/overrides.ts'
import { binFireRise, binFull, boilerNoHeat, dampRisk, offline } from './examples.ts'

const catalogue: readonly Rule[] = [binFull, binFireRise, offline]
const override = (o: RuleOverrideInput) => RuleOverride.parse(o)
const site = (ruleId: string, rest: Partial<RuleOverrideInput> = {}) => override({ scope: 'site', target: 'leeds', ruleId, ...rest })
const device = (ruleId: string, rest: Partial<RuleOverrideInput> = {}) => override({ scope: 'device', target: 'bin-1', ruleId, ...rest })
const find = (rules: readonly Rule[], id: string) => rules.find((r) => r.id === id) as Extract<Rule, { kind: 'threshold' }> | undefined

describe('RuleOverride (the stored shape)', () => {
  it('defaults to no params and enabled, and refuses id, kind, bad targets and bad rule ids', () => {
    expect(override({ scope: 'device', target: 'bin-1', ruleId: 'bin-full' })).toEqual({
      scope: 'device',
      target: 'bin-1',
      ruleId: 'bin-full',
      params: {},
      disabled: false,
    })
    const id = RuleOverride.safeParse({ scope: 'site', target: 'leeds', ruleId: 'bin-full', params: { id: 'other' } })
    expect(id.success).toBe(false)
    expect(id.error?.issues[0]?.path).toEqual(['params', 'id'])
    const kind = RuleOverride.safeParse({ scope: 'site', target: 'leeds', ruleId: 'bin-full', params: { kind: 'rate' } })
    expect(kind.error?.issues[0]?.path).toEqual(['params', 'kind'])
    expect(RuleOverride.safeParse({ scope: 'street', target: 'leeds', ruleId: 'bin-full' }).success).toBe(false)
    expect(RuleOverride.safeParse({ scope: 'site', target: 'Leeds Centre', ruleId: 'bin-full' }).success).toBe(false)
    expect(RuleOverride.safeParse({ scope: 'site', target: 'leeds', ruleId: 'Bin Full' }).success).toBe(false)
  })
})

describe('checkOverride', () => {
  it('puts params on the rule and validates the result with the Rule schema', () => {
    const c = checkOverride(binFull, { raiseAt: 0.5, clearAt: 0.3 })
    expect(c.ok).toBe(true)
    if (!c.ok) return
    expect(c.rule).toEqual({ ...binFull, raiseAt: 0.5, clearAt: 0.3 })
    expect(RuleSchema.parse(c.rule)).toEqual(c.rule)
  })

  it('returns the rule itself for empty params', () => {
    const c = checkOverride(binFull, {})
    expect(c.ok && c.rule).toBe(binFull)
  })

  it('refuses a merge that breaks the hysteresis band, naming the failing field', () => {
    // Catalogue clearAt is 0.7: raiseAt 0.5 alone puts clearAt on the unsafe side.
    const c = checkOverride(binFull, { raiseAt: 0.5 })
    expect(c).toEqual({ ok: false, issues: [expect.objectContaining({ path: 'clearAt', message: expect.stringMatching(/hysteresis/) })] })
  })

  it('refuses wrong types, unknown fields, id and kind with the path of each', () => {
    const typed = checkOverride(binFull, { raiseAt: 'high' })
    expect(!typed.ok && typed.issues.map((i) => i.path)).toEqual(['raiseAt'])
    const unknown = checkOverride(binFull, { raiseAT: 0.5, level: 1 })
    expect(!unknown.ok && unknown.issues.map((i) => i.path)).toEqual(['raiseAT', 'level'])
    expect(!unknown.ok && unknown.issues[0]?.message).toMatch(/not a field of a threshold rule.*raiseAt/)
    const fixed = checkOverride(binFull, { id: 'bin-empty', kind: 'rate' })
    expect(!fixed.ok && fixed.issues.map((i) => i.path)).toEqual(['id', 'kind'])
  })

  it('applies the checks of the kind: an escalation must raise the severity', () => {
    const c = checkOverride(boilerNoHeat, { severity: 'critical' })
    expect(!c.ok && c.issues).toEqual([expect.objectContaining({ path: 'escalation.to' })])
    const without = checkOverride(boilerNoHeat, { severity: 'critical', escalation: null })
    expect(without.ok && without.rule).toMatchObject({ severity: 'critical' })
    expect(without.ok && 'escalation' in without.rule).toBe(false)
  })

  it('refuses null for a required field', () => {
    const c = checkOverride(dampRisk, { level: null })
    expect(!c.ok && c.issues.map((i) => i.path)).toEqual(['level'])
  })

  it('fills defaults of a field removed with null', () => {
    const spec: RuleSpec = { ...binFull, consecutive: 5 }
    const c = checkOverride(RuleSchema.parse(spec), { consecutive: null })
    expect(c.ok && find([c.rule], 'bin-full')?.consecutive).toBe(1)
  })
})

describe('effectiveRule', () => {
  it('layers catalogue, site, then device params, and the device decides whether it is on', () => {
    const e = effectiveRule(
      binFull,
      site('bin-full', { params: { clearAt: 0.4 }, disabled: true }),
      device('bin-full', { params: { raiseAt: 0.6 } }),
    )
    expect(e).toEqual({ rule: { ...binFull, raiseAt: 0.6, clearAt: 0.4 }, disabled: false, rejected: [] })
    expect(effectiveRule(binFull, site('bin-full', { disabled: true })).disabled).toBe(true)
    expect(effectiveRule(binFull, undefined, device('bin-full', { disabled: true })).disabled).toBe(true)
  })

  it('leaves out a layer that no longer fits, keeps the rest and reports it', () => {
    const e = effectiveRule(binFull, site('bin-full', { params: { raiseAt: 0.8 } }), device('bin-full', { params: { clearAt: 0.9 } }))
    expect(e.rule).toEqual({ ...binFull, raiseAt: 0.8 })
    expect(e.rejected).toEqual([{ scope: 'device', ruleId: 'bin-full', issues: [expect.objectContaining({ path: 'clearAt' })] }])
  })
})

describe('applyOverrides', () => {
  it('gives the same rules, in order, when nothing touches them', () => {
    const r = applyOverrides(catalogue, {})
    expect(r.rejected).toEqual([])
    expect(r.rules).toHaveLength(3)
    for (const [i, rule] of r.rules.entries()) expect(rule).toBe(catalogue[i])
  })

  it('a device override beats the site override of the same field', () => {
    const r = applyOverrides(catalogue, {
      site: [site('bin-full', { params: { raiseAt: 0.9, clearAt: 0.5 } })],
      device: [device('bin-full', { params: { raiseAt: 0.6 } })],
    })
    expect(find(r.rules, 'bin-full')).toMatchObject({ raiseAt: 0.6, clearAt: 0.5, consecutive: 2 })
    expect(r.rules.map((x) => x.id)).toEqual(['bin-full', 'bin-fire', 'device-offline'])
    // Untouched rules are the catalogue's own objects.
    expect(r.rules[1]).toBe(binFireRise)
  })

  it('leaves out a disabled rule, and a device can switch back on what its site switched off', () => {
    const off = applyOverrides(catalogue, { site: [site('bin-fire', { disabled: true })] })
    expect(off.rules.map((x) => x.id)).toEqual(['bin-full', 'device-offline'])
    const back = applyOverrides(catalogue, { site: [site('bin-fire', { disabled: true })], device: [device('bin-fire')] })
    expect(back.rules.map((x) => x.id)).toEqual(['bin-full', 'bin-fire', 'device-offline'])
    const mine = applyOverrides(catalogue, { device: [device('device-offline', { disabled: true })] })
    expect(mine.rules.map((x) => x.id)).toEqual(['bin-full', 'bin-fire'])
  })

  it('keeps a rule at the catalogue’s parameters when its override no longer fits, and says why', () => {
    const r = applyOverrides(catalogue, { device: [device('bin-full', { params: { clearAt: 0.99 } })] })
    expect(find(r.rules, 'bin-full')).toBe(binFull)
    expect(r.rejected).toEqual([{ scope: 'device', ruleId: 'bin-full', issues: [expect.objectContaining({ path: 'clearAt' })] }])
  })

  it('reports a device override of a rule its type does not have, but not a site override of another type’s rule', () => {
    const r = applyOverrides(catalogue, {
      site: [site('boiler-no-heat', { params: { raiseAt: 30 } })],
      device: [device('boiler-no-heat', { params: { raiseAt: 30 } })],
    })
    expect(r.rules).toEqual([...catalogue])
    expect(r.rejected).toEqual([{ scope: 'device', ruleId: 'boiler-no-heat', issues: [expect.objectContaining({ path: 'ruleId' })] }])
  })
})
