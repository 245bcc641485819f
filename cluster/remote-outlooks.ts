import type { ForecastOutlook, Rule } from '#devices'
import { type EngineDevice, outlookOfStored } from '../alerts/engine.ts'

/**
 * Cluster mode's bin outlooks (issue 15): a bin whose partition this node reads gets its engine's
 * outlook; any other, the outlook of the state its partition's reader last committed to the shared
 * store (every half second). Those are kept for `maxAgeMs`, so a list of 2,000 bins asked by many
 * phones costs one query per window, not one per phone.
 */
export function createClusterOutlooks(deps: {
  local: (d: EngineDevice) => ForecastOutlook | null
  owns: (deviceId: string) => boolean
  statesOf: (deviceIds: readonly string[]) => Promise<Map<string, string>>
  rulesOf: (d: EngineDevice) => readonly Rule[]
  ruleId: string
  maxAgeMs: number
  now?: () => number
}) {
  const now = deps.now ?? Date.now
  const kept = new Map<string, { at: number; outlook: ForecastOutlook | null }>()
  return async (list: readonly EngineDevice[]): Promise<(ForecastOutlook | null)[]> => {
    const out = list.map((d) => (deps.owns(d.id) ? deps.local(d) : null))
    const t = now()
    const stale: EngineDevice[] = []
    for (const d of list) {
      if (deps.owns(d.id)) continue
      const k = kept.get(d.id)
      if (!k || t - k.at > deps.maxAgeMs) stale.push(d)
    }
    if (stale.length > 0) {
      const states = await deps.statesOf(stale.map((d) => d.id))
      for (const d of stale) {
        const rule = deps.rulesOf(d).find((r) => r.id === deps.ruleId)
        kept.set(d.id, { at: t, outlook: outlookOfStored(rule, states.get(d.id)) })
      }
    }
    // Bins deleted, or now read here, are not kept for ever.
    if (kept.size > 2 * list.length) for (const [id, k] of kept) if (t - k.at > 60_000) kept.delete(id)
    for (const [i, d] of list.entries()) if (!deps.owns(d.id)) out[i] = kept.get(d.id)?.outlook ?? null
    return out
  }
}
