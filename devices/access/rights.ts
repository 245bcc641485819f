/**
 * Who reads and acts on what, as plain data with no zod: the web app's menu imports this alone,
 * so the first page a phone loads carries no schema library. roles.ts builds the schemas from it.
 */
export const ROLE_NAMES = ['admin', 'crew', 'housing', 'energy', 'viewer'] as const
type RoleName = (typeof ROLE_NAMES)[number]

/**
 * The kind of data a device produces. Housing data (boilers, rooms, their cases, homes'
 * UPRNs) is personal data under UK GDPR: only housing roles and admins ever see it.
 */
export const DATA_CLASSES = ['waste', 'housing', 'energy', 'environment'] as const
type ClassName = (typeof DATA_CLASSES)[number]

/** Each device type's class; roles.ts checks that every type in the catalogue has one. */
export const CLASS_OF = {
  bin: 'waste',
  boiler: 'housing',
  room: 'housing',
  meter: 'energy',
  weather: 'environment',
} as const satisfies Record<string, ClassName>

export const dataClassOf = (type: string): ClassName | undefined => (CLASS_OF as Record<string, ClassName>)[type]

interface RoleRights {
  read: readonly ClassName[]
  write: readonly ClassName[]
  /** Sees people's names and notes in alert and case histories (a viewer sees what happened, not who). */
  seesPeople: boolean
}

/** The whole policy in one table: what each role may read and act on, within its areas. */
export const ROLE_RIGHTS: Record<RoleName, RoleRights> = {
  admin: { read: DATA_CLASSES, write: DATA_CLASSES, seesPeople: true },
  crew: { read: ['waste', 'environment'], write: ['waste'], seesPeople: true },
  housing: { read: ['housing', 'environment'], write: ['housing'], seesPeople: true },
  energy: { read: ['energy', 'environment'], write: ['energy'], seesPeople: true },
  viewer: { read: ['waste', 'energy', 'environment'], write: [], seesPeople: false },
}
