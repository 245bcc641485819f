import { AlertEventData, type Grant, type RoutedEvent, scopeOf, siteGrants } from '#devices'
import type { PushStore } from '../store/push-store.ts'

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
    if (e.type !== 'alert.raised') return []
    const a = AlertEventData.safeParse(e.payload.data)
    if (!a.success || a.data.severity !== 'critical') return []
    const owners = await deps.push.owners()
    if (owners.length === 0) return []
    const sites = await deps.sitesByArea()
    const byPerson = new Map<string, string[]>()
    for (const o of owners) byPerson.set(o.personId, [...(byPerson.get(o.personId) ?? []), o.id])
    const out: { channel: 'webpush'; target: string }[] = []
    for (const [personId, ids] of byPerson) {
      const p = await deps.person(personId)
      if (p?.status !== 'active' || !(await deps.push.prefs(personId)).push) continue
      const scope = scopeOf(siteGrants(p.grants, (area) => sites.get(area) ?? []))
      if (!scope.device(a.data.deviceType, a.data.site)) continue
      for (const id of ids) out.push({ channel: 'webpush', target: id })
    }
    return out
  }
}
