import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import type { DeviceInput, DeviceType } from '#devices'
import type { SimDevice } from './fleet.ts'
import { between, createRng } from './rng.ts'

/**
 * Homes are on the estate: room sensors sit in the homes that have the boilers, and the estate's
 * weather sensor gives the outside temperature to boilers without an OpenTherm outside sensor.
 */
const SITES: Record<DeviceType, string> = {
  bin: 'city-centre',
  boiler: 'north-estate',
  room: 'north-estate',
  weather: 'north-estate',
  meter: 'civic-buildings',
}

/** A home's UPRN: boiler i and room sensor i are in the same home. */
const HOME_TYPES = new Set<DeviceType>(['boiler', 'room'])

/** Devices for a fleet of the given size (types left out get none); ids are stable so a credentials file can be reused. */
export function fleetSpecs(counts: Partial<Record<DeviceType, number>>, seed: number, prefix = 'sim'): DeviceInput[] {
  const rng = createRng(seed)
  const out: DeviceInput[] = []
  for (const type of Object.keys(counts) as DeviceType[]) {
    for (let i = 1; i <= (counts[type] ?? 0); i++) {
      const n = String(i).padStart(5, '0')
      out.push({
        id: `${prefix}-${type}-${n}`,
        type,
        name: `Simulated ${type} ${i}`,
        site: SITES[type],
        // Around Leicester city centre; any UK town would do.
        latitude: Math.round(between(rng, 52.6, 52.66) * 1e5) / 1e5,
        longitude: Math.round(between(rng, -1.17, -1.09) * 1e5) / 1e5,
        uprn: HOME_TYPES.has(type) ? String(100_030_000_000 + i) : null,
      })
    }
  }
  return out
}

export type Provisioner = (spec: DeviceInput) => Promise<{ secret: string } | 'exists'>

/** Provisions through the REST API with an admin token. */
export function apiProvisioner(apiUrl: string, token: string): Provisioner {
  return async (spec) => {
    const res = await fetch(`${apiUrl}/api/devices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(spec),
    })
    if (res.status === 409) return 'exists'
    if (!res.ok) throw new Error(`provisioning ${spec.id} failed: HTTP ${res.status} ${await res.text()}`)
    return { secret: ((await res.json()) as { secret: string }).secret }
  }
}

/**
 * Reuses credentials from `file` and provisions the rest. Secrets are shown only
 * once, so the file (mode 0600) is the only copy.
 */
export async function provisionFleet(specs: DeviceInput[], provision: Provisioner, file: string | null): Promise<SimDevice[]> {
  const known = new Map<string, SimDevice>()
  if (file && existsSync(file)) for (const d of JSON.parse(readFileSync(file, 'utf8')) as SimDevice[]) known.set(d.id, d)
  const out: SimDevice[] = []
  for (const spec of specs) {
    let d = known.get(spec.id)
    if (!d) {
      const r = await provision(spec)
      if (r === 'exists')
        throw new Error(`device ${spec.id} exists but its secret is not in ${file ?? 'a credentials file'}; use another --prefix`)
      d = { id: spec.id, secret: r.secret, type: spec.type, site: spec.site }
      known.set(d.id, d)
    }
    out.push(d)
  }
  if (file) writeFileSync(file, JSON.stringify([...known.values()], null, 1), { mode: 0o600 })
  return out
}
