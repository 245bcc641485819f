import { type Alert, caseView, type DigestAlert, type DigestCase, type DigestContent, type Grant, scopeOf, siteGrants } from '#devices'
import type { AlertStore } from '../store/alert-store.ts'
import type { CaseStore } from '../store/case-store.ts'

export interface DigestContentDeps {
  alerts: Pick<AlertStore, 'list'>
  cases: Pick<CaseStore, 'list'>
  sitesByArea(): Promise<Map<string, string[]>>
  deviceName(id: string): Promise<string | undefined>
}

export interface DigestReader {
  id: string
  grants: readonly Grant[]
}

/** A mail someone reads over breakfast, not a report: the rest is a click away. */
export const DIGEST_MAX_ITEMS = 50
/** How many rows are read to sort and count from; a person with more open alerts than this has bigger problems than the digest. */
const SCAN = 1000
const SEVERITY_RANK: Record<Alert['severity'], number> = { critical: 0, warning: 1, info: 2 }

/** Assigned to this person, or to a team (a role in an area, or everywhere) they belong to. */
export function ownership(assignedTo: string | null, reader: DigestReader): DigestAlert['mine'] {
  if (!assignedTo) return null
  if (assignedTo === `person:${reader.id}`) return 'person'
  const team = /^team:([a-z]+)@(.+)$/.exec(assignedTo)
  if (!team) return null
  const [, role, area] = team
  const member = reader.grants.some((g) => g.role === role && (g.areas === null || (area !== 'all' && g.areas.includes(area!))))
  return member ? 'team' : null
}

/**
 * What a person's digest lists, read when it is sent: their open alerts (active or acknowledged)
 * within their roles and areas, critical first and newest first within a severity; and, for a
 * housing officer, their open Awaab's Law cases, breached first, then the soonest deadline.
 */
export function createDigestContent(deps: DigestContentDeps) {
  return async (reader: DigestReader, now: number): Promise<DigestContent> => {
    const sites = await deps.sitesByArea()
    const scope = scopeOf(siteGrants(reader.grants, (a) => sites.get(a) ?? []))
    const open = await deps.alerts.list({ status: 'open', visible: scope.visible(), limit: SCAN }, new Date(now))
    // The store lists newest first; a stable sort by severity keeps that order within each.
    const ranked = [...open].sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity])
    const shown = ranked.slice(0, DIGEST_MAX_ITEMS)
    const alerts: DigestAlert[] = []
    for (const a of shown)
      alerts.push({
        id: a.id,
        title: a.title,
        severity: a.severity,
        status: a.status === 'acknowledged' ? 'acknowledged' : 'active',
        deviceName: (await deps.deviceName(a.deviceId)) ?? a.deviceId,
        site: a.site,
        raisedAt: a.raisedAt,
        mine: ownership(a.assignedTo, reader),
      })

    let cases: DigestCase[] | null = null
    let moreCases = 0
    if (reader.grants.some((g) => g.role === 'housing')) {
      const caseSites = scope.sites('housing')
      // Open ones only, asked of the store: closed cases pile up over the years and must not crowd them out of the scan.
      const records = await deps.cases.list({ open: true, ...(caseSites === null ? {} : { sites: caseSites }), limit: SCAN })
      const views = records.map((r) => caseView(r, now))
      const due = (v: (typeof views)[number]) => (v.next ? Date.parse(v.next.due) : Number.POSITIVE_INFINITY)
      views.sort((a, b) => Number(b.breached) - Number(a.breached) || due(a) - due(b))
      cases = views.slice(0, DIGEST_MAX_ITEMS).map((v) => ({
        id: v.id,
        hazard: v.hazard,
        category: v.category,
        site: v.site,
        state: v.state,
        breached: v.breached,
        next: v.next && { step: v.next.step, due: v.next.due, secondsLeft: v.next.secondsLeft },
      }))
      moreCases = views.length - cases.length
    }
    return { alerts, moreAlerts: ranked.length - alerts.length, cases, moreCases }
  }
}
export type DigestContentSource = ReturnType<typeof createDigestContent>
