import type { Alert, Area, CaseView, DeviceState } from '#devices'
import type { Api, DeviceWithState } from './api.ts'
import { estateName, HOUSING_TYPES, homeName } from './housing-words.ts'

/** A home: the housing devices that share a UPRN. */
export interface Home {
  uprn: string
  site: string
  name: string
  devices: DeviceWithState[]
}

/** An estate: a site with homes in it, named by the estate area that covers it. */
export interface Estate {
  site: string
  name: string
  homes: Home[]
}

/** Groups the housing devices the caller can see into estates and homes, by name. */
function estatesOf(devices: readonly DeviceWithState[], areas: readonly Area[]): Estate[] {
  const bySite = new Map<string, Map<string, DeviceWithState[]>>()
  for (const d of devices) {
    if (!HOUSING_TYPES.has(d.type) || !d.uprn) continue
    const homes = bySite.get(d.site) ?? new Map<string, DeviceWithState[]>()
    bySite.set(d.site, homes)
    homes.set(d.uprn, [...(homes.get(d.uprn) ?? []), d])
  }
  return [...bySite]
    .map(([site, homes]) => ({
      site,
      name: estateName(site, areas),
      homes: [...homes]
        .map(([uprn, ds]) => ({ uprn, site, name: homeName(ds, uprn), devices: ds }))
        .sort((a, b) => a.name.localeCompare(b.name, 'en-GB', { numeric: true })),
    }))
    .sort((a, b) => a.name.localeCompare(b.name, 'en-GB'))
}

/** The calls the housing view makes, each with the signed-in person's credentials. */
export function housingApi(api: Api) {
  const { get, post } = api
  const q = (o: Record<string, string | number | undefined>) =>
    new URLSearchParams(Object.entries(o).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]]))).toString()
  return {
    devices: api.devices,
    areas: () => get<Area[]>('/api/areas'),
    alerts: (f: { status?: string; site?: string; deviceId?: string; limit?: number }) => get<Alert[]>(`/api/alerts?${q(f)}`),
    cases: (f: { site?: string; limit?: number }) => get<CaseView[]>(`/api/cases?${q(f)}`),
    post,
    get,
  }
}
export type HousingApi = ReturnType<typeof housingApi>

/** The estates the caller can see, from their devices and areas. */
export async function loadEstates(api: HousingApi): Promise<Estate[]> {
  const [devices, areas] = await Promise.all([api.devices(), api.areas()])
  return estatesOf(devices, areas)
}

/** A newer live state for one of our devices replaces the one we hold. */
export function applyState(devices: readonly DeviceWithState[], s: DeviceState): DeviceWithState | null {
  const d = devices.find((x) => x.id === s.deviceId)
  if (!d) return null
  d.state = s
  return d
}

/** The latest reading of a field, as a number, with its time. */
export function latestOf(d: DeviceWithState | undefined, field: string): { value: number; at: string } | null {
  const l = d?.state.latest
  const v = l?.readings[field]
  return l && typeof v === 'number' && Number.isFinite(v) ? { value: v, at: l.ts } : null
}
