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
  // One query at a time: phones asking together wait for the one running, then find what it fetched.
  let fetching: Promise<void> | null = null
  let sweptAt = now()
  const staleOf = (list: readonly EngineDevice[], t: number) =>
    list.filter((d) => {
      if (deps.owns(d.id)) return false
      const k = kept.get(d.id)
      return !k || t - k.at > deps.maxAgeMs
    })
  const fetch = async (stale: readonly EngineDevice[], t: number) => {
    const states = await deps.statesOf(stale.map((d) => d.id))
    for (const d of stale) {
      const rule = deps.rulesOf(d).find((r) => r.id === deps.ruleId)
      kept.set(d.id, { at: t, outlook: outlookOfStored(rule, states.get(d.id)) })
    }
  }
  return async (list: readonly EngineDevice[]): Promise<(ForecastOutlook | null)[]> => {
    while (fetching) await fetching.catch(() => undefined)
    const t = now()
    const stale = staleOf(list, t)
    if (stale.length > 0) {
      fetching = fetch(stale, t).finally(() => {
        fetching = null
      })
      await fetching
    }
    // Bins deleted, or now read here, are not kept for ever.
    if (t - sweptAt > 60_000) {
      sweptAt = t
      for (const [id, k] of kept) if (t - k.at > 60_000) kept.delete(id)
    }
    return list.map((d) => (deps.owns(d.id) ? deps.local(d) : (kept.get(d.id)?.outlook ?? null)))
  }
}
