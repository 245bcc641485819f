import { z } from 'zod'
import { DEVICE_TYPE_NAMES, type DeviceType } from './catalog/index.ts'
import { DeviceId, SiteId, Uprn } from './ids.ts'

export const DeviceTypeName = z.enum(DEVICE_TYPE_NAMES as [DeviceType, ...DeviceType[]])

/** What an administrator supplies to provision a device. */
export const DeviceInput = z.strictObject({
  id: DeviceId,
  type: DeviceTypeName,
  name: z.string().min(1).max(120),
  site: SiteId,
  latitude: z.number().min(-90).max(90).nullable().default(null),
  longitude: z.number().min(-180).max(180).nullable().default(null),
  uprn: Uprn.nullable().default(null),
  intervalS: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .optional()
    .describe('expected reporting interval; defaults per type'),
})
export type DeviceInput = z.input<typeof DeviceInput>

/** A registered device as the API shows it (never with its secret). */
export const Device = z.object({
  id: z.string(),
  type: DeviceTypeName,
  name: z.string(),
  site: z.string(),
  latitude: z.number().nullable(),
  longitude: z.number().nullable(),
  uprn: z.string().nullable(),
  intervalS: z.number().int(),
  createdAt: z.string(),
  presence: z.enum(['online', 'offline', 'unknown']),
  lastSeen: z.string().nullable(),
})
export type Device = z.infer<typeof Device>
