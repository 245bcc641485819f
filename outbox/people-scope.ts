import { AlertEventData, type Grant, type RoutedEvent, scopeOf, siteGrants } from '#devices'

/** The data of a critical `alert.raised`, or null: the only events that reach people at once (push, email). */
export function criticalRaised(e: RoutedEvent): AlertEventData | null {
  if (e.type !== 'alert.raised') return null
  const a = AlertEventData.safeParse(e.payload.data)
  return a.success && a.data.severity === 'critical' ? a.data : null
}

/** Whether a person's roles and areas let them see this alert's device at its site (the API's own scope). */
export function sees(grants: readonly Grant[], sitesByArea: ReadonlyMap<string, string[]>, a: AlertEventData): boolean {
  return scopeOf(siteGrants(grants, (area) => sitesByArea.get(area) ?? [])).device(a.deviceType, a.site)
}
