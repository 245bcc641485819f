import { z } from 'zod'
import { SEGMENT } from '../ids.ts'
import type { Issue } from '../reading.ts'
import { RuleId } from './base.ts'
import { Rule } from './rule.ts'

export const OverrideScope = z.enum(['device', 'site'])
export type OverrideScope = z.infer<typeof OverrideScope>

// A rule's identity is its id and kind: an override may tune a rule, never turn it into another one.
const FIXED = new Set(['id', 'kind'])

/**
 * Rule fields to replace, each whole (an `escalation` or a `when` list is replaced, not merged).
 * null removes an optional field, e.g. `{ "escalation": null }` for a device that must not escalate.
 */
export const OverrideParams = z.record(z.string().max(64), z.unknown()).superRefine((params, ctx) => {
  for (const key of Object.keys(params)) {
    if (FIXED.has(key)) ctx.addIssue({ code: 'custom', message: `${key} cannot be overridden: override another rule instead`, path: [key] })
  }
  if (Object.keys(params).length > 32) ctx.addIssue({ code: 'custom', message: 'at most 32 fields' })
})
export type OverrideParams = z.infer<typeof OverrideParams>

/** Per-site or per-device tuning of one catalogue rule, or switching it off (issue 9, "Per-site and per-device overrides"). */
export const RuleOverride = z.object({
  scope: OverrideScope,
  /** A device id (scope device) or a site (scope site). */
  target: z.string().regex(SEGMENT, 'lower-case letters, digits and hyphens, 1-64 characters'),
  ruleId: RuleId,
  params: OverrideParams.default({}),
  disabled: z.boolean().default(false),
  /** Why, for the next person: "beside the school, empty it earlier". */
  note: z.string().max(500).optional(),
})
export type RuleOverride = z.infer<typeof RuleOverride>
export type RuleOverrideInput = z.input<typeof RuleOverride>

/** An override as the store keeps it: who set it last, and when. */
export const StoredRuleOverride = RuleOverride.extend({ updatedBy: z.string(), updatedAt: z.string() })
export type StoredRuleOverride = z.infer<typeof StoredRuleOverride>

/** What an override said at one moment, for the history; null when there was none. */
export const OverrideValue = z.object({ params: z.record(z.string(), z.unknown()), disabled: z.boolean() })
export type OverrideValue = z.infer<typeof OverrideValue>

export const RuleOverrideHistoryEntry = z.object({
  id: z.number().int(),
  at: z.string(),
  actor: z.string(),
  action: z.enum(['set', 'removed']),
  scope: OverrideScope,
  target: z.string(),
  ruleId: z.string(),
  before: OverrideValue.nullable(),
  after: OverrideValue.nullable(),
  note: z.string().nullable(),
})
export type RuleOverrideHistoryEntry = z.infer<typeof RuleOverrideHistoryEntry>

// Worked out once from the union itself, so a new kind or field needs no change here.
const FIELDS: ReadonlyMap<string, readonly string[]> = new Map(Rule.options.map((o) => [o.shape.kind.value, Object.keys(o.shape)]))

export type OverrideCheck = { ok: true; rule: Rule } | { ok: false; issues: Issue[] }

/**
 * The rule with `params` put on it, validated by the same schema as the catalogue, so every
 * check a catalogue rule passes (hysteresis band, escalation raising severity, …) holds for an
 * override too. Issue paths name the field of `params` (or of the rule) that failed.
 */
export function checkOverride(rule: Rule, params: Readonly<Record<string, unknown>>): OverrideCheck {
  const keys = Object.keys(params)
  if (keys.length === 0) return { ok: true, rule }
  const fields = FIELDS.get(rule.kind) ?? []
  const issues: Issue[] = []
  for (const key of keys) {
    if (FIXED.has(key)) issues.push({ path: key, message: `${key} cannot be overridden: override another rule instead` })
    else if (!fields.includes(key)) {
      const allowed = fields.filter((f) => !FIXED.has(f)).join(', ')
      issues.push({ path: key, message: `not a field of a ${rule.kind} rule (${rule.id}); its fields are ${allowed}` })
    }
  }
  if (issues.length) return { ok: false, issues }
  const merged: Record<string, unknown> = { ...rule }
  for (const key of keys) {
    const v = params[key]
    if (v === null) delete merged[key]
    else merged[key] = v
  }
  const parsed = Rule.safeParse(merged)
  if (parsed.success) return { ok: true, rule: parsed.data }
  return { ok: false, issues: parsed.error.issues.slice(0, 20).map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) }
}

/** Overrides that touch one device: those of its site and its own. */
export interface DeviceOverrides {
  site?: readonly RuleOverride[] | undefined
  device?: readonly RuleOverride[] | undefined
}

/** An override that could not be applied: the rule is no longer in the catalogue, or no longer fits its schema with it. */
export interface RejectedOverride {
  scope: OverrideScope
  ruleId: string
  issues: Issue[]
}

export interface AppliedRules {
  rules: Rule[]
  rejected: RejectedOverride[]
}

export interface EffectiveRule {
  /** The rule with every override that fits it, also when it is switched off (so people see what would apply). */
  rule: Rule
  disabled: boolean
  rejected: RejectedOverride[]
}

/**
 * One rule under its site's and its device's override. Params layer: catalogue, then site, then
 * device; the device's `disabled` beats the site's, so a site may switch a rule off and one
 * device switch it back on. A layer that no longer fits the schema (the catalogue moved under
 * it) is left out and reported, and the rule keeps evaluating without it: a safety rule must
 * not stop over a stale override.
 */
export function effectiveRule(rule: Rule, site?: RuleOverride, device?: RuleOverride): EffectiveRule {
  let r = rule
  const rejected: RejectedOverride[] = []
  for (const o of [site, device]) {
    if (!o) continue
    const c = checkOverride(r, o.params)
    if (c.ok) r = c.rule
    else rejected.push({ scope: o.scope, ruleId: o.ruleId, issues: c.issues })
  }
  return { rule: r, disabled: (device ?? site)?.disabled ?? false, rejected }
}

const byRule = (list: readonly RuleOverride[] | undefined) => new Map((list ?? []).map((o) => [o.ruleId, o]))

/** A device's effective rules (see effectiveRule), in the catalogue's order, without those switched off. */
export function applyOverrides(rules: readonly Rule[], overrides: DeviceOverrides): AppliedRules {
  const site = byRule(overrides.site)
  const device = byRule(overrides.device)
  const rejected: RejectedOverride[] = []
  const out: Rule[] = []
  for (const rule of rules) {
    const e = effectiveRule(rule, site.get(rule.id), device.get(rule.id))
    rejected.push(...e.rejected)
    if (!e.disabled) out.push(e.rule)
  }
  // A site's override of another type's rule is normal (bins and boilers share sites); a device's is stale.
  const known = new Set(rules.map((r) => r.id))
  for (const o of device.values()) {
    if (!known.has(o.ruleId)) {
      rejected.push({
        scope: o.scope,
        ruleId: o.ruleId,
        issues: [{ path: 'ruleId', message: 'no such rule in the catalogue of this device type' }],
      })
    }
  }
  return { rules: out, rejected }
}
