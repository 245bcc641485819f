import type { Area } from '../access/people.ts'
import type { Device } from '../device.ts'
import type { ServiceHealthRow, ServiceReadingsDailyRow } from './datasets.ts'

/** The device types service health counts: street and building sensors only, never a home's. */
const COUNTED = ['bin', 'meter'] as const
const UNASSIGNED = 'unassigned'

/**
 * Devices online per type and area. Estate areas are left out: they group homes, and their
 * names belong to housing, not to the street; a device in no other area counts as 'unassigned'.
 * Only the counted types are read, so no boiler or room adds to any figure.
 */
/** The areas a site counts under for the public: its non-estate areas, or 'unassigned'. */
function publicAreasOf(site: string, areas: readonly Area[]): string[] {
  const inAreas = areas.filter((a) => a.kind !== 'estate' && a.sites.includes(site)).map((a) => a.id)
  return inAreas.length > 0 ? inAreas : [UNASSIGNED]
}

export function serviceHealthRows(
  devices: readonly Pick<Device, 'type' | 'site' | 'presence'>[],
  areas: readonly Area[],
): ServiceHealthRow[] {
  const counts = new Map<string, ServiceHealthRow>()
  for (const d of devices) {
    const type = COUNTED.find((t) => t === d.type)
    if (!type) continue
    for (const area of publicAreasOf(d.site, areas)) {
      const key = `${type}\u0000${area}`
      const row = counts.get(key) ?? { type, area, online: 0, total: 0 }
      row.total++
      if (d.presence === 'online') row.online++
      counts.set(key, row)
    }
  }
  return [...counts.values()].sort((a, b) => a.type.localeCompare(b.type) || a.area.localeCompare(b.area))
}

/** Readings one site received on one London day, per counted type (from InfluxDB's daily counts). */
export interface SiteDayCount {
  type: string
  site: string
  date: string
  readings: number
}

/**
 * Readings per type, area and day: each site's count added to each of its public areas, never a
 * boiler's or room's (only the counted types are read), sorted by type, area and date.
 */
export function readingsPerDayRows(counts: readonly SiteDayCount[], areas: readonly Area[]): ServiceReadingsDailyRow[] {
  const rows = new Map<string, ServiceReadingsDailyRow>()
  for (const c of counts) {
    const type = COUNTED.find((t) => t === c.type)
    if (!type || c.readings <= 0) continue
    for (const area of publicAreasOf(c.site, areas)) {
      const key = `${type}\u0000${area}\u0000${c.date}`
      const row = rows.get(key) ?? { type, area, date: c.date, readings: 0 }
      row.readings += c.readings
      rows.set(key, row)
    }
  }
  return [...rows.values()].sort((a, b) => a.type.localeCompare(b.type) || a.area.localeCompare(b.area) || a.date.localeCompare(b.date))
}
