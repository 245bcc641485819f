import { z } from 'zod'

/** One topic segment: lower-case letters, digits and hyphens (design D4). */
export const SEGMENT = /^[a-z0-9][a-z0-9-]{0,63}$/

export const DeviceId = z.string().regex(SEGMENT, 'lower-case letters, digits and hyphens, 1-64 characters')
export type DeviceId = z.infer<typeof DeviceId>

export const SiteId = z.string().regex(SEGMENT, 'lower-case letters, digits and hyphens, 1-64 characters')
export type SiteId = z.infer<typeof SiteId>

/** Unique Property Reference Number: up to 12 digits (GeoPlace). */
export const Uprn = z.string().regex(/^[0-9]{1,12}$/, 'a UPRN is 1-12 digits')
