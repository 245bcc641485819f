import { z } from 'zod'

/**
 * When many devices of one site go silent together (a street's gateway, a block's broadband),
 * one incident is raised and their offline alerts are grouped under it, rather than one alert
 * each that nobody reads (issue 9). Defaults are ours.
 */
export const IncidentPolicy = z.object({
  /** At least this many devices, … */
  minDevices: z.number().int().min(2).max(100_000).default(5),
  /** … or at least this share of the site's devices (and at least two), … */
  minShare: z.number().min(0).max(1).default(0.5),
  /** … whose last readings came within this many seconds of each other. */
  withinS: z.number().int().min(1).max(86_400).default(900),
})
export type IncidentPolicy = z.infer<typeof IncidentPolicy>

export const Incident = z.object({
  id: z.string(),
  site: z.string(),
  kind: z.literal('site-silent'),
  title: z.string(),
  status: z.enum(['open', 'cleared']),
  openedAt: z.string().describe('ISO 8601'),
  clearedAt: z.string().nullable(),
  /** Devices grouped under it, and how many of them are still silent. */
  devices: z.number().int().nonnegative(),
  silent: z.number().int().nonnegative(),
})
export type Incident = z.infer<typeof Incident>

export interface SilentDevice {
  id: string
  /** When it was last heard (or, never heard, since when we have been waiting), epoch ms. */
  since: number
  intervalS: number
}

/**
 * The devices of one site that went quiet together with `device`: each has missed at least one
 * whole interval, and was last heard within `withinS` of it. Includes `device` itself.
 */
export function silentTogether(policy: IncidentPolicy, device: SilentDevice, site: readonly SilentDevice[], now: number): SilentDevice[] {
  const w = policy.withinS * 1000
  return site.filter((d) => now - d.since > d.intervalS * 1000 && Math.abs(d.since - device.since) <= w)
}

/** Whether that many devices, of a site of `siteSize`, make an incident. */
export function isIncident(policy: IncidentPolicy, together: number, siteSize: number): boolean {
  if (together < 2) return false
  return together >= policy.minDevices || (siteSize > 0 && together / siteSize >= policy.minShare)
}
