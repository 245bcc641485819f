import type { Area } from '../access/people.ts'
import type { Device } from '../device.ts'
import type { ServiceHealthRow } from './datasets.ts'

/** The device types service health counts: street and building sensors only, never a home's. */
const COUNTED = ['bin', 'meter'] as const
const UNASSIGNED = 'unassigned'

/**
 * Devices online per type and area. Estate areas are left out: they group homes, and their
 * names belong to housing, not to the street; a device in no other area counts as 'unassigned'.
 * Only the counted types are read, so no boiler or room adds to any figure.
 */
export function serviceHealthRows(
  devices: readonly Pick<Device, 'type' | 'site' | 'presence'>[],
  areas: readonly Area[],
): ServiceHealthRow[] {
  const open = areas.filter((a) => a.kind !== 'estate')
  const counts = new Map<string, ServiceHealthRow>()
  for (const d of devices) {
    const type = COUNTED.find((t) => t === d.type)
    if (!type) continue
    const inAreas = open.filter((a) => a.sites.includes(d.site)).map((a) => a.id)
    for (const area of inAreas.length > 0 ? inAreas : [UNASSIGNED]) {
      const key = `${type}\u0000${area}`
      const row = counts.get(key) ?? { type, area, online: 0, total: 0 }
      row.total++
      if (d.presence === 'online') row.online++
      counts.set(key, row)
    }
  }
  return [...counts.values()].sort((a, b) => a.type.localeCompare(b.type) || a.area.localeCompare(b.area))
}
