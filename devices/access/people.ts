import { z } from 'zod'
import { AreaId, Grant, Grants } from './roles.ts'

export const Email = z.string().trim().toLowerCase().max(254).pipe(z.email())
export const PersonName = z.string().trim().min(1).max(120)

/** Length over complexity (NCSC, NIST SP 800-63B): 12 to 256 characters; the common-password list is checked by the server. */
export const PASSWORD_MIN = 12
export const PASSWORD_MAX = 256
export const Password = z.string().min(PASSWORD_MIN, `at least ${PASSWORD_MIN} characters`).max(PASSWORD_MAX)

export const PersonStatus = z.enum(['active', 'invited', 'disabled'])

/** A person as an admin sees them. Nobody else is shown an email address. */
export const Person = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  grants: z.array(Grant),
  status: PersonStatus,
  mustChangePassword: z.boolean(),
  sso: z.boolean().describe('signs in through the council identity provider'),
  grantsSource: z
    .enum(['admin', 'sso'])
    .describe("who set the grants: an administrator, or the identity provider's groups at the last sign-in"),
  createdAt: z.string(),
  lastSignInAt: z.string().nullable(),
})
export type Person = z.infer<typeof Person>

/** Who is signed in, for the web app: their own record and what they may do. */
export const Me = z.object({
  kind: z.enum(['person', 'token']),
  id: z.string(),
  name: z.string(),
  email: z.string().nullable(),
  grants: z.array(Grant),
  mustChangePassword: z.boolean(),
  csrfToken: z.string().nullable().describe('send as x-csrf-token on every state-changing request made with the session cookie'),
})
export type Me = z.infer<typeof Me>

export const Area = z.object({
  id: AreaId,
  name: z.string().trim().min(1).max(120),
  kind: z.enum(['ward', 'estate', 'round', 'other']),
  sites: z.array(z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/)).max(1000),
})
export type Area = z.infer<typeof Area>

export const ApiToken = z.object({
  id: z.string(),
  name: z.string(),
  grant: Grant,
  createdAt: z.string(),
  createdBy: z.string(),
  expiresAt: z.string(),
  revokedAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
})
export type ApiToken = z.infer<typeof ApiToken>

export const MAX_TOKEN_DAYS = 366
export const NewApiToken = z.strictObject({
  name: z.string().trim().min(1).max(80),
  grant: Grant,
  expiresInDays: z.number().int().min(1).max(MAX_TOKEN_DAYS),
})

export const NewInvitation = z.strictObject({ email: Email, name: PersonName, grants: Grants })

/**
 * Who did something, as stored in histories: a person, a named automation token, or the
 * service itself. Names are looked up when shown, so a renamed person reads right everywhere.
 */
export const ActorRef = z.string().regex(/^(person:[0-9a-f-]{36}|token:[0-9a-f-]{36}|admin-token|system)$/)

/** Alerts are assigned to a person or to a team: a role within an area (or everywhere). */
export const Assignee = z
  .string()
  .regex(
    /^(person:[0-9a-f-]{36}|team:(crew|housing|energy|admin|viewer)@([a-z0-9][a-z0-9-]{0,63}|all))$/,
    'person:<id> or team:<role>@<area|all>',
  )
export type Assignee = z.infer<typeof Assignee>

export const AuditAction = z.enum([
  'sign-in',
  'sign-in-failed',
  'sign-out',
  'password-changed',
  'first-admin-created',
  'invitation-created',
  'invitation-accepted',
  'person-grants-changed',
  'person-grants-kept',
  'person-disabled',
  'token-created',
  'token-revoked',
  'area-changed',
  'device-provisioned',
  'device-revoked',
  'alert-action',
  'case-action',
  'rule-override',
  'export',
  'dataset-published',
  'dataset-withdrawn',
  'webhook-created',
  'webhook-deleted',
  'webhook-secret-rotated',
  'delivery-replayed',
  'tts-mapping-added',
  'tts-mapping-removed',
])
export type AuditAction = z.infer<typeof AuditAction>

export const AuditEntry = z.object({
  id: z.number().int(),
  at: z.string(),
  actor: z.string(),
  action: AuditAction,
  target: z.string().nullable(),
  /** The client address, here only: never in a log line. */
  address: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()).nullable(),
})
export type AuditEntry = z.infer<typeof AuditEntry>
