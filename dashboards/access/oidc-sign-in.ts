import { Email, type Grant, PersonName } from '#devices'
import type { PeopleStore, PersonRecord } from '../../store/people-store.ts'
import type { SessionStore } from '../../store/session-store.ts'
import type { SsoClaims } from './oidc-client.ts'
import { grantsFromGroups, groupsOf, sameGrants } from './oidc-grants.ts'

export type SsoOutcome =
  | {
      ok: true
      person: PersonRecord
      /** The grants before this sign-in, when the group map changed them. */
      grantsBefore: Grant[] | null
      /** The group map's grants, when they were not applied because they would leave no active administrator. */
      grantsKept: Grant[] | null
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
      /** More for the audit log (never shown to the person). */
      detail?: Record<string, string>
    }

export const NO_MAPPED_GROUP = 'Your account is not in any group this service knows; ask an administrator to give you a role'
export const NO_LONGER_MAPPED = 'You are no longer in any group this service knows; ask an administrator'
export const LINK_REFUSED = 'an account with this email already exists; ask an administrator'

const isAdmin = (grants: readonly Grant[]) => grants.some((g) => g.role === 'admin')

/** Whether these grants would take the admin role from the last active administrator. */
async function takesLastAdmin(people: PeopleStore, p: PersonRecord, next: readonly Grant[]): Promise<boolean> {
  if (isAdmin(next) || !isAdmin(p.grants)) return false
  return !(await people.list()).some((o) => o.id !== p.id && o.status === 'active' && isAdmin(o.grants))
}

/**
 * Who a provider's account is here, and what they may do. The account's subject is the lasting
 * key. The email finds, once, only a person an administrator invited who has not signed up yet,
 * and only when the provider has checked the address: some providers (Entra ID) let people set
 * their own address and do not say whether it was checked.
 * The group map decides the grants whenever one of the person's groups maps. When none does,
 * grants an administrator gave are kept, grants the group map gave are gone (a leaver: refused
 * and signed out everywhere), and a stranger is refused.
 */
export async function ssoPerson(
  stores: { people: PeopleStore; sessions: Pick<SessionStore, 'deleteForPerson'> },
  groupMap: Readonly<Record<string, Grant[]>>,
  claims: SsoClaims,
): Promise<SsoOutcome> {
  const { people } = stores
  const refuse = (
    status: 400 | 403 | 503,
    code: 'FORBIDDEN' | 'SSO_FAILED',
    message: string,
    reason: string,
    personId: string | null,
    detail?: Record<string, string>,
  ) => ({ ok: false, status, code, message, reason, personId, ...(detail ? { detail } : {}) }) as const
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
      // Anyone who can set their own address at the provider could otherwise take over a
      // password account or an administrator's: only an unused invitation is linked, on a checked address.
      const because =
        byEmail.oidcSubject !== null
          ? 'linked-elsewhere'
          : claims.emailVerified !== true
            ? 'email-not-verified'
            : byEmail.status !== 'invited'
              ? `account-${byEmail.status}`
              : isAdmin(byEmail.grants)
                ? 'admin'
                : null
      if (because) return refuse(403, 'FORBIDDEN', LINK_REFUSED, 'link-refused', byEmail.id, { because })
      person = byEmail
      linked = true
    }
  }

  if (person) {
    if (person.status === 'disabled')
      return refuse(403, 'FORBIDDEN', 'this account is disabled; ask an administrator', 'disabled', person.id)
    if (mapped.length === 0 && person.grantsSource === 'sso') {
      // A leaver: what the group map gave goes with the group, here and in every open session.
      await stores.sessions.deleteForPerson(person.id)
      return refuse(403, 'FORBIDDEN', NO_LONGER_MAPPED, 'no-mapped-group', person.id)
    }
    if (linked) await people.linkOidc(person.id, subject)
    if (linked || person.status === 'invited') {
      // From now on the identity provider alone signs this person in: no password, no old link.
      await people.clearPassword(person.id)
      await people.dropInvitations(person.id)
      await people.setStatus(person.id, 'active')
    }
    let grantsBefore: Grant[] | null = null
    let grantsKept: Grant[] | null = null
    if (mapped.length > 0) {
      const changes = !sameGrants(person.grants, mapped)
      if (changes && (await takesLastAdmin(people, { ...person, status: 'active' }, mapped))) {
        grantsKept = mapped
      } else if (changes || person.grantsSource !== 'sso') {
        // Same grants still change hands: from now on they follow the groups.
        await people.setGrants(person.id, mapped, 'sso')
        if (changes) grantsBefore = person.grants
      }
    }
    const now = (await people.get(person.id))!
    return { ok: true, person: now, grantsBefore, grantsKept, created: false, linked }
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
    grantsSource: 'sso',
    status: 'active',
    passwordHash: null,
    mustChangePassword: false,
    oidcSubject: subject,
    createdBy: 'system',
  })
  if (created) return { ok: true, person: created, grantsBefore: null, grantsKept: null, created: true, linked: false }
  // Two first sign-ins of the same account at once (two tabs): the other one created the person.
  const raced = await people.byOidcSubject(subject)
  if (raced) return { ok: true, person: raced, grantsBefore: null, grantsKept: null, created: false, linked: false }
  return refuse(403, 'FORBIDDEN', LINK_REFUSED, 'link-refused', null, { because: 'email-taken' })
}
