import type { Grant, RoutedEvent } from '#devices'
import type { PushStore } from '../store/push-store.ts'
import { criticalRaised, sees } from './people-scope.ts'

export interface PushRoutingDeps {
  push: Pick<PushStore, 'owners' | 'prefs'>
  person(id: string): Promise<{ status: string; grants: readonly Grant[] } | undefined>
  sitesByArea(): Promise<Map<string, string[]>>
}

/**
 * Which phones a critical alert goes to: those of active people who want push and whose roles and
 * areas let them see that device at that site (the same scope as the API). Nothing else is pushed:
 * a phone buzzes for what needs a person now, not for every warning.
 */
export function createPushRouting(deps: PushRoutingDeps) {
  return async (e: RoutedEvent): Promise<{ channel: 'webpush'; target: string }[]> => {
    const a = criticalRaised(e)
    if (!a) return []
    const owners = await deps.push.owners()
    if (owners.length === 0) return []
    const sites = await deps.sitesByArea()
    const byPerson = new Map<string, string[]>()
    for (const o of owners) byPerson.set(o.personId, [...(byPerson.get(o.personId) ?? []), o.id])
    const out: { channel: 'webpush'; target: string }[] = []
    for (const [personId, ids] of byPerson) {
      const p = await deps.person(personId)
      if (p?.status !== 'active' || !(await deps.push.prefs(personId)).push) continue
      if (!sees(p.grants, sites, a)) continue
      for (const id of ids) out.push({ channel: 'webpush', target: id })
    }
    return out
  }
}
