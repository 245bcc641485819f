import type { Grant, NotificationPrefs, RoutedEvent } from '#devices'
import { criticalRaised, sees } from './people-scope.ts'

export interface EmailRoutingDeps {
  /** Everyone who might be mailed; only active people with an address are. */
  people(): Promise<readonly { id: string; status: string; email: string; grants: readonly Grant[] }[]>
  prefs(personId: string): Promise<NotificationPrefs>
  sitesByArea(): Promise<Map<string, string[]>>
}

/**
 * Who is mailed a critical alert at once: active people with an address who chose email and whose
 * roles and areas let them see that device at that site (the same scope as the API and Web Push).
 * One delivery per person, the person's id its target, so one person's mail is in order and a slow
 * mailbox holds no one else's.
 */
export function createEmailRouting(deps: EmailRoutingDeps) {
  return async (e: RoutedEvent): Promise<{ channel: 'email'; target: string }[]> => {
    const a = criticalRaised(e)
    if (!a) return []
    const people = (await deps.people()).filter((p) => p.status === 'active' && p.email)
    if (people.length === 0) return []
    const sites = await deps.sitesByArea()
    const out: { channel: 'email'; target: string }[] = []
    for (const p of people) {
      if (!sees(p.grants, sites, a)) continue
      if (!(await deps.prefs(p.id)).email) continue
      out.push({ channel: 'email', target: p.id })
    }
    return out
  }
}
