import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { DEVICE_TYPE_NAMES, deviceTypeOf, Issue, Rule, RuleId, SEGMENT } from '#devices'
import {
  applyOverrides,
  checkOverride,
  effectiveRule,
  OverrideParams,
  OverrideScope,
  type RuleOverride,
  RuleOverrideHistoryEntry,
  StoredRuleOverride,
} from '../../devices/rules/overrides.ts'
import type { Registry } from '../../store/registry.ts'
import { audit } from '../access/audit.ts'
import { actorOf, principalOf } from '../access/route-access.ts'
import { ErrorBody, sendError } from '../errors.ts'

export interface RuleRoutesDeps {
  registry: Pick<Registry, 'devices' | 'overrides' | 'audit'>
  /** A device type's catalogue rules; defaults to the device catalogue (devices/catalog). */
  catalogue?: (type: string) => readonly Rule[]
}

const NONE: readonly Rule[] = []
const fromCatalogue = (type: string) => deviceTypeOf(type)?.rules ?? NONE

const Segment = z.string().regex(SEGMENT, 'lower-case letters, digits and hyphens, 1-64 characters')
const KeyParams = z.object({ scope: OverrideScope, target: Segment, ruleId: RuleId })
const Filter = z.object({ scope: OverrideScope.optional(), target: Segment.optional(), ruleId: RuleId.optional() })

const OverrideBody = z.strictObject({
  params: OverrideParams.default({}).describe('rule fields to replace, each whole; null removes an optional field; never id or kind'),
  disabled: z.boolean().default(false).describe('true switches the rule off for this device or site'),
  note: z.string().max(500).optional(),
})

const Effective = z.object({
  type: z.string(),
  /** With every override that fits, also when switched off, so people see what would apply. */
  rule: Rule,
  disabled: z.boolean(),
})

const RejectedOverride = z.object({ scope: OverrideScope, ruleId: z.string(), issues: z.array(Issue) })

/** A viewer sees what an override does, not who set it or what they wrote. */
const withoutPeople = ({ note: _note, ...o }: StoredRuleOverride): StoredRuleOverride => ({ ...o, updatedBy: 'someone' })

const prefixed = (prefix: string, issues: readonly Issue[]) =>
  issues.map((i) => ({ path: i.path ? `${prefix}.${i.path}` : prefix, message: i.message }))

/** Catalogue rules per device type, and per-site and per-device overrides of them (issue 9). */
export const ruleRoutes =
  (deps: RuleRoutesDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const catalogue = deps.catalogue ?? fromCatalogue
    const { devices, overrides } = deps.registry

    /** The overrides that touch a device: its site's and its own. */
    const touching = async (d: { id: string; site: string }) => {
      const [site, device] = await Promise.all([
        overrides.list({ scope: 'site', target: d.site }),
        overrides.list({ scope: 'device', target: d.id }),
      ])
      return { site, device }
    }
    const audited = (req: FastifyRequest<{ Params: z.infer<typeof KeyParams> }>, action: 'set' | 'removed') => {
      const { scope, target, ruleId } = req.params
      return audit(deps.registry.audit, req, 'rule-override', `${scope}/${target}/${ruleId}`, { action })
    }

    app.get(
      '/api/rules',
      {
        config: { access: 'signed-in' },
        schema: {
          tags: ['rules'],
          description: 'Every device type’s catalogue rules as data: id, kind, title, text for people, severity and parameters.',
          response: { 200: z.array(z.object({ type: z.string(), title: z.string(), rules: z.array(Rule) })) },
        },
      },
      async (req) => {
        // A crew has no business with boiler rules: only the types whose data the caller reads somewhere.
        const readable = new Set(
          principalOf(req)
            .scope.visible()
            .flatMap((v) => v.types),
        )
        return DEVICE_TYPE_NAMES.filter((type) => readable.has(type)).map((type) => ({
          type,
          title: deviceTypeOf(type)?.title ?? type,
          rules: [...catalogue(type)],
        }))
      },
    )

    app.get(
      '/api/rules/overrides',
      { config: { access: 'admin' }, schema: { tags: ['rules'], querystring: Filter, response: { 200: z.array(StoredRuleOverride) } } },
      async (req) => overrides.list(req.query),
    )

    app.get(
      '/api/rules/overrides/history',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['rules'],
          description: 'Who set or removed which override when, with the override before and after; newest first.',
          querystring: Filter.extend({ limit: z.coerce.number().int().min(1).max(1000).optional() }),
          response: { 200: z.array(RuleOverrideHistoryEntry) },
        },
      },
      async (req) => overrides.history(req.query),
    )

    app.put(
      '/api/rules/overrides/:scope/:target/:ruleId',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['rules'],
          description:
            'Sets (replaces) the override of one rule for a device or a site. The rule with the override must pass the same schema as the catalogue. Device overrides beat site overrides.',
          params: KeyParams,
          body: OverrideBody,
          response: { 200: z.object({ override: StoredRuleOverride, effective: z.array(Effective) }), 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (req, reply) => {
        const { scope, target, ruleId } = req.params
        const next: RuleOverride = { scope, target, ruleId, ...req.body }
        const refuse = (message: string, issues: Issue[]) => sendError(reply, 400, 'BAD_REQUEST', message, issues)
        const notInCatalogue = (where: string) =>
          refuse(`no rule ${ruleId} in the catalogue of ${where}; GET /api/rules lists them`, [
            { path: 'params.ruleId', message: `not a rule of ${where}` },
          ])

        if (scope === 'device') {
          const device = await devices.get(target)
          if (!device) return sendError(reply, 404, 'NOT_FOUND', `no device ${target}`)
          const rule = catalogue(device.type).find((r) => r.id === ruleId)
          if (!rule) return notInCatalogue(`device type ${device.type}`)
          // Checked on top of the site's override, as the engine will apply it.
          const site = (await overrides.list({ scope: 'site', target: device.site, ruleId }))[0]
          const e = effectiveRule(rule, site, next)
          const bad = e.rejected.find((r) => r.scope === 'device')
          if (bad) return refuse(`the override does not fit rule ${ruleId}; see issues`, prefixed('body.params', bad.issues))
          const { override } = await overrides.set(next, actorOf(req))
          await audited(req, 'set')
          return { override, effective: [{ type: device.type, rule: e.rule, disabled: e.disabled }] }
        }

        // A site holds devices of every type: the override must fit the rule in each catalogue that has it.
        const effective: z.infer<typeof Effective>[] = []
        for (const type of DEVICE_TYPE_NAMES) {
          const rule = catalogue(type).find((r) => r.id === ruleId)
          if (!rule) continue
          const c = checkOverride(rule, next.params)
          if (!c.ok) return refuse(`the override does not fit rule ${ruleId} of ${type}; see issues`, prefixed('body.params', c.issues))
          effective.push({ type, rule: c.rule, disabled: next.disabled })
        }
        if (!effective.length) return notInCatalogue('any device type')
        const { override } = await overrides.set(next, actorOf(req))
        await audited(req, 'set')
        return { override, effective }
      },
    )

    app.delete(
      '/api/rules/overrides/:scope/:target/:ruleId',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['rules'],
          description: 'Removes an override: the rule goes back to the site’s or the catalogue’s parameters. Recorded in the history.',
          params: KeyParams,
          querystring: z.object({ note: z.string().max(500).optional() }),
          response: { 200: z.object({ removed: StoredRuleOverride }), 404: ErrorBody },
        },
      },
      async (req, reply) => {
        const removed = await overrides.remove(req.params, actorOf(req), req.query.note)
        if (!removed) {
          const { scope, target, ruleId } = req.params
          return sendError(reply, 404, 'NOT_FOUND', `no ${scope} override of ${ruleId} for ${target}`)
        }
        await audited(req, 'removed')
        return { removed }
      },
    )

    app.get(
      '/api/rules/effective/:deviceId',
      {
        config: { access: { data: 'any' } },
        schema: {
          tags: ['rules'],
          description:
            'The rules the alert engine evaluates for a device, with its site’s and its own overrides applied; the rule ids switched off; and any override left out because it no longer fits its rule.',
          params: z.object({ deviceId: Segment }),
          response: {
            200: z.object({
              device: z.object({ id: z.string(), type: z.string(), site: z.string() }),
              rules: z.array(Rule),
              disabled: z.array(z.string()),
              overrides: z.array(StoredRuleOverride),
              rejected: z.array(RejectedOverride),
            }),
            404: ErrorBody,
          },
        },
      },
      async (req, reply) => {
        const { scope } = principalOf(req)
        const d = await devices.get(req.params.deviceId)
        if (!d || !scope.device(d.type, d.site)) return sendError(reply, 404, 'NOT_FOUND', `no device ${req.params.deviceId}`)
        const touch = await touching(d)
        const base = catalogue(d.type)
        const applied = applyOverrides(base, touch)
        const on = new Set(applied.rules.map((r) => r.id))
        const ids = new Set(base.map((r) => r.id))
        return {
          device: { id: d.id, type: d.type, site: d.site },
          rules: applied.rules,
          disabled: base.filter((r) => !on.has(r.id)).map((r) => r.id),
          overrides: [...touch.site, ...touch.device]
            .filter((o) => o.scope === 'device' || ids.has(o.ruleId))
            .map((o) => (scope.seesPeople ? o : withoutPeople(o))),
          rejected: applied.rejected,
        }
      },
    )
  }
