import { z } from 'zod'
import { DEVICE_TYPE_NAMES, type DeviceType } from '../catalog/index.ts'
import { SEGMENT } from '../ids.ts'
import { CLASS_OF, DATA_CLASSES, dataClassOf, ROLE_NAMES, ROLE_RIGHTS } from './rights.ts'

/** What a person does for the council; each role reads (and some write) one kind of data (rights.ts). */
export const Role = z.enum(ROLE_NAMES)
export type Role = z.infer<typeof Role>
export const ROLES = Role.options

/** The kind of data a device produces (rights.ts says who sees which). */
export const DataClass = z.enum(DATA_CLASSES)
export type DataClass = z.infer<typeof DataClass>

// Every device type in the catalogue has a class: a new type without one fails to compile here.
const CLASSES: Record<DeviceType, DataClass> = CLASS_OF
export const typesOfClass = (c: DataClass): DeviceType[] => DEVICE_TYPE_NAMES.filter((t) => CLASSES[t] === c)
export { dataClassOf, ROLE_RIGHTS }

/** Areas group sites (a ward, an estate, a round's streets). An id is a short slug. */
export const AreaId = z.string().regex(SEGMENT, 'lower-case letters, digits and hyphens, 1-64 characters')
export type AreaId = z.infer<typeof AreaId>

/** One role, in some areas or in all of them (`areas: null`). An admin is always everywhere. */
export const Grant = z
  .strictObject({
    role: Role,
    areas: z.array(AreaId).min(1).max(100).nullable().describe('null: every area'),
  })
  .refine((g) => g.role !== 'admin' || g.areas === null, { message: 'an admin holds every area (areas: null)', path: ['areas'] })
export type Grant = z.infer<typeof Grant>
export const Grants = z.array(Grant).min(1).max(20)
