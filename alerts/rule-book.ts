import type { Logger } from 'pino'
import type { Rule } from '#devices'
import { applyOverrides, type OverrideScope, type RuleOverride } from '../devices/rules/overrides.ts'
import { keepInStep } from '../store/kept-in-step.ts'

/** One override set (override) or removed (null), as committed. */
export interface OverrideChange {
  scope: OverrideScope
  target: string
  ruleId: string
  override: RuleOverride | null
}

/** What the rule book needs of the store. */
export interface OverrideSource {
  list(): Promise<readonly RuleOverride[]>
  /**
   * Calls `listener` after each committed set or remove made through this store, in this
   * process; returns the unsubscribe. Writes from elsewhere (another process) need reload().
   */
  onChange?(listener: (change: OverrideChange) => void): () => void
}

export interface RuleBookDevice {
  id: string
  type: string
  site: string
}

export interface RuleBook {
  /** Subscribes to changes, then loads every override. Call before the engine reads its first reading. */
  start(): Promise<void>
  /**
   * The rules to evaluate for this device: the catalogue's own array (same reference) when no
   * override touches the device, else a merged array cached until the next change. Per reading:
   * Map lookups only.
   */
  rulesFor(device: RuleBookDevice): readonly Rule[]
  /** Loads every override again (after writes this process did not see). On failure the old ones stay. */
  reload(): Promise<void>
  close(): void
}

interface Cached {
  base: readonly Rule[]
  site: string
  rules: readonly Rule[]
}

type ByRule = Map<string, RuleOverride>

/**
 * Per-site and per-device rule overrides in front of the catalogue. A write through the store
 * reaches the book synchronously through `onChange` before the API answers, so a reading
 * published after a 200 is evaluated with the new rule.
 */
export function createRuleBook(deps: {
  overrides: OverrideSource
  catalogue: (type: string) => readonly Rule[]
  log?: Logger | undefined
}): RuleBook {
  const bySite = new Map<string, ByRule>()
  const byDevice = new Map<string, ByRule>()
  // Devices with overrides of their own, by device; the rest share one array per site and type.
  const perDevice = new Map<string, Cached>()
  const perSite = new Map<string, Map<string, Cached>>()

  const put = (c: OverrideChange) => {
    const index = c.scope === 'site' ? bySite : byDevice
    const m = index.get(c.target)
    if (c.override) {
      if (m) m.set(c.ruleId, c.override)
      else index.set(c.target, new Map([[c.ruleId, c.override]]))
    } else if (m) {
      m.delete(c.ruleId)
      if (m.size === 0) index.delete(c.target)
    }
  }
  // Changes are rare (people, through the API): dropping every merged array is simpler than tracking which a change touches.
  const invalidate = () => {
    perDevice.clear()
    perSite.clear()
  }

  const merge = (base: readonly Rule[], d: RuleBookDevice, site: ByRule | undefined, own: ByRule | undefined): readonly Rule[] => {
    const r = applyOverrides(base, { site: site && [...site.values()], device: own && [...own.values()] })
    if (r.rejected.length)
      deps.log?.warn({ deviceId: d.id, site: d.site, rejected: r.rejected }, 'rule overrides left out: they no longer fit the rule')
    return r.rules.length === base.length && r.rules.every((rule, i) => rule === base[i]) ? base : r.rules
  }

  const kept = keepInStep({
    subscribe: deps.overrides.onChange?.bind(deps.overrides),
    snapshot: () => deps.overrides.list(),
    install(list: Awaited<ReturnType<OverrideSource['list']>>) {
      bySite.clear()
      byDevice.clear()
      for (const o of list) put({ scope: o.scope, target: o.target, ruleId: o.ruleId, override: o })
      invalidate()
      deps.log?.info({ overrides: list.length }, 'rule overrides loaded')
    },
    apply(c: OverrideChange) {
      put(c)
      invalidate()
    },
  })

  return {
    start: kept.start,
    rulesFor(d) {
      const base = deps.catalogue(d.type)
      const own = byDevice.get(d.id)
      const site = bySite.get(d.site)
      if (!own && !site) return base
      if (own) {
        const c = perDevice.get(d.id)
        if (c && c.base === base && c.site === d.site) return c.rules
        const rules = merge(base, d, site, own)
        perDevice.set(d.id, { base, site: d.site, rules })
        return rules
      }
      const types = perSite.get(d.site)
      const c = types?.get(d.type)
      if (c && c.base === base) return c.rules
      const rules = merge(base, d, site, undefined)
      const cached = { base, site: d.site, rules }
      if (types) types.set(d.type, cached)
      else perSite.set(d.site, new Map([[d.type, cached]]))
      return rules
    },
    reload: kept.reload,
    close() {
      kept.close()
      bySite.clear()
      byDevice.clear()
      invalidate()
    },
  }
}
