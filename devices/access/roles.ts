import { z } from 'zod'
import { DEVICE_TYPE_NAMES, type DeviceType } from '../catalog/index.ts'
import { SEGMENT } from '../ids.ts'

/** What a person does for the council; each role reads (and some write) one kind of data. */
export const Role = z.enum(['admin', 'crew', 'housing', 'energy', 'viewer'])
export type Role = z.infer<typeof Role>
export const ROLES = Role.options

/**
 * The kind of data a device produces. Housing data (boilers, rooms, their cases, homes'
 * UPRNs) is personal data under UK GDPR: only housing roles and admins ever see it.
 */
export const DataClass = z.enum(['waste', 'housing', 'energy', 'environment'])
export type DataClass = z.infer<typeof DataClass>

const CLASS_OF: Record<DeviceType, DataClass> = {
  bin: 'waste',
  boiler: 'housing',
  room: 'housing',
  meter: 'energy',
  weather: 'environment',
}
export const dataClassOf = (type: string): DataClass | undefined => CLASS_OF[type as DeviceType]
export const typesOfClass = (c: DataClass): DeviceType[] => DEVICE_TYPE_NAMES.filter((t) => CLASS_OF[t] === c)

interface RoleRights {
  read: readonly DataClass[]
  write: readonly DataClass[]
  /** Sees people's names and notes in alert and case histories (a viewer sees what happened, not who). */
  seesPeople: boolean
}

/** The whole policy in one table: what each role may read and act on, within its areas. */
export const ROLE_RIGHTS: Record<Role, RoleRights> = {
  admin: { read: DataClass.options, write: DataClass.options, seesPeople: true },
  crew: { read: ['waste', 'environment'], write: ['waste'], seesPeople: true },
  housing: { read: ['housing', 'environment'], write: ['housing'], seesPeople: true },
  energy: { read: ['energy', 'environment'], write: ['energy'], seesPeople: true },
  viewer: { read: ['waste', 'energy', 'environment'], write: [], seesPeople: false },
}

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
