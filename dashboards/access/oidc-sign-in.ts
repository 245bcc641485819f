import { Email, type Grant, PersonName } from '#devices'
import type { PeopleStore, PersonRecord } from '../../store/people-store.ts'
import type { SsoClaims } from './oidc-client.ts'
import { grantsFromGroups, groupsOf, sameGrants } from './oidc-grants.ts'

export type SsoOutcome =
  | {
      ok: true
      person: PersonRecord
      /** The grants before this sign-in, when the group map changed them. */
      grantsBefore: Grant[] | null
      created: boolean
      linked: boolean
    }
  | {
      ok: false
      status: 400 | 403 | 503
      code: 'FORBIDDEN' | 'SSO_FAILED'
      message: string
      /** For the audit log. */
      reason: string
      personId: string | null
    }

export const NO_MAPPED_GROUP = 'Your account is not in any group this service knows; ask an administrator to give you a role'

/**
 * Who a provider's account is here, and what they may do. The account's subject is the lasting
 * key; the email finds a person an administrator invited or who used a password before, once.
 * The group map decides the grants of a person who signs in this way whenever one of their groups
 * maps; when none does, grants an administrator gave are kept, and a stranger is refused.
 */
export async function ssoPerson(people: PeopleStore, groupMap: Readonly<Record<string, Grant[]>>, claims: SsoClaims): Promise<SsoOutcome> {
  const refuse = (status: 400 | 403 | 503, code: 'FORBIDDEN' | 'SSO_FAILED', message: string, reason: string, personId: string | null) =>
    ({ ok: false, status, code, message, reason, personId }) as const
  const subject = `${claims.issuer} ${claims.sub}`
  const mapped = grantsFromGroups(groupsOf(claims.groups), groupMap)
  if (mapped === 'invalid') {
    return refuse(
      503,
      'SSO_FAILED',
      'your groups give more areas than one person can hold; ask an administrator to check OIDC_GROUP_MAP',
      'group-map-too-large',
      null,
    )
  }
  const email = claims.email === null ? null : Email.safeParse(claims.email)
  const validEmail = email?.success ? email.data : null

  let person = await people.byOidcSubject(subject)
  let linked = false
  if (!person && validEmail) {
    const byEmail = await people.byEmail(validEmail)
    if (byEmail) {
      if (byEmail.oidcSubject !== null) {
        return refuse(
          403,
          'FORBIDDEN',
          'this email address belongs to another account here; ask an administrator',
          'email-linked-elsewhere',
          byEmail.id,
        )
      }
      // Linking on an address the provider has not checked would let anyone who can set their own address take over the account.
      if (claims.emailVerified === false) {
        return refuse(
          403,
          'FORBIDDEN',
          'the identity provider has not verified your email address; verify it there, then sign in again',
          'email-not-verified',
          byEmail.id,
        )
      }
      person = byEmail
      linked = true
    }
  }

  if (person) {
    if (person.status === 'disabled')
      return refuse(403, 'FORBIDDEN', 'this account is disabled; ask an administrator', 'disabled', person.id)
    if (linked) await people.linkOidc(person.id, subject)
    if (person.status === 'invited') await people.setStatus(person.id, 'active')
    let grantsBefore: Grant[] | null = null
    if (mapped.length > 0 && !sameGrants(person.grants, mapped)) {
      grantsBefore = person.grants
      await people.setGrants(person.id, mapped)
    }
    const now = (await people.get(person.id))!
    return { ok: true, person: now, grantsBefore, created: false, linked }
  }

  if (mapped.length === 0) return refuse(403, 'FORBIDDEN', NO_MAPPED_GROUP, 'no-mapped-group', null)
  if (!validEmail) {
    return refuse(
      400,
      'SSO_FAILED',
      'the identity provider did not give an email address; ask council IT to release the email claim to this service',
      'no-email',
      null,
    )
  }
  const name = PersonName.safeParse(claims.name ?? '')
  const created = await people.createIfNew({
    email: validEmail,
    name: name.success ? name.data : validEmail.split('@')[0]!,
    grants: mapped,
    status: 'active',
    passwordHash: null,
    mustChangePassword: false,
    oidcSubject: subject,
    createdBy: 'system',
  })
  if (created) return { ok: true, person: created, grantsBefore: null, created: true, linked: false }
  // Two first sign-ins of the same account at once (two tabs): the other one created the person.
  const raced = await people.byOidcSubject(subject)
  if (raced) return { ok: true, person: raced, grantsBefore: null, created: false, linked: false }
  return refuse(403, 'FORBIDDEN', 'this email address belongs to another account here; ask an administrator', 'email-taken', null)
}
