import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { Me, PASSWORD_MAX } from '#devices'
import type { PersonRecord } from '../../store/people-store.ts'
import type { AccountDeps } from '../access/accounts.ts'
import { audit } from '../access/audit.ts'
import { checkPassword, hashPassword, verifyPassword } from '../access/passwords.ts'
import { principalOf } from '../access/route-access.ts'
import { sessionCookie } from '../access/session-cookie.ts'
import { SESSION_COOKIE } from '../access/sessions.ts'
import { createSignInBrake } from '../access/sign-in-brake.ts'
import { throttledMessage } from '../auth.ts'
import type { Refusal } from '../auth-guard.ts'
import { ErrorBody, sendError, sendTooMany } from '../errors.ts'
import { SIGN_IN_LIMIT } from '../rate-limits.ts'

// Loose on purpose: a password typed at sign-in is checked, not judged; the policy speaks when one is chosen.
const typed = z
  .string()
  .min(1)
  .max(PASSWORD_MAX * 4)
const SignIn = z.strictObject({ email: z.string().trim().toLowerCase().max(254), password: typed })
const PasswordChange = z.strictObject({ current: typed, next: typed.describe('12 to 256 characters, not a common password') })
const Accept = z.strictObject({ token: z.string().min(1).max(200), password: typed })

const INVITATION_GONE = 'this invitation link has been used or has expired; ask an administrator for a new one'
// For the address guard: wrong links are counted like wrong passwords, so links cannot be guessed in bulk.
const INVITATION_IDENTITY = 'invitation'

const meOf = (p: Pick<PersonRecord, 'id' | 'name' | 'email' | 'grants' | 'mustChangePassword'>, csrf: string): Me => ({
  kind: 'person',
  id: p.id,
  name: p.name,
  email: p.email,
  grants: p.grants,
  mustChangePassword: p.mustChangePassword,
  csrfToken: csrf,
})

/** Sign-in with email and password, sign-out, password change, accepting an invitation, and who am I. */
export const authRoutes =
  (deps: AccountDeps & { invitationTtlMs: number }): FastifyPluginAsyncZod =>
  async (app) => {
    const { registry, sessions } = deps
    const brake = createSignInBrake({ guard: deps.guard })
    const cookie = sessionCookie(deps.publicUrl)
    const startSession = async (req: FastifyRequest, reply: FastifyReply, personId: string) => {
      const s = await sessions.start(personId)
      cookie.set(req, reply, s)
      return s
    }
    const throttled = (reply: FastifyReply, r: Refusal) =>
      sendTooMany(reply, 'AUTH_THROTTLED', r.retryAfterS, throttledMessage(r.scope, r.retryAfterS))
    /**
     * A refused password sign-in. The account attacked is named (target, and its email for the
     * reviewer) only when the typed email is a known account's; otherwise the typed text is not
     * kept at all: it may be a password typed into the email box.
     */
    const auditFailedSignIn = (
      req: FastifyRequest,
      person: PersonRecord | undefined,
      reason: string,
      extra: Record<string, unknown> = {},
    ) =>
      audit(
        registry.audit,
        req,
        'sign-in-failed',
        person ? `person:${person.id}` : null,
        person
          ? { method: 'password', reason, email: person.email, ...extra }
          : { method: 'password', reason, unknownAccount: true, ...extra },
      )
    /**
     * A refused invitation link, and why: the person it was for when the link was theirs (known by
     * its hash; the link itself is never kept). `person`: the one the link led to, when it still worked.
     */
    const auditRefusedLink = async (
      req: FastifyRequest,
      tokenHash: Buffer,
      step: 'open' | 'accept',
      known: { person?: PersonRecord | undefined; throttledBy?: Refusal } = {},
    ) => {
      let person = known.person
      let reason = person ? `account-${person.status}` : 'throttled'
      if (!person) {
        const link = await registry.people.invitationState(tokenHash, Date.now())
        person = link ? await registry.people.get(link.personId) : undefined
        if (!known.throttledBy) reason = !link ? 'invitation-unknown' : link.state === 'live' ? 'account-gone' : `invitation-${link.state}`
      }
      await audit(registry.audit, req, 'sign-in-failed', person ? `person:${person.id}` : null, {
        method: 'invitation',
        step,
        reason,
        ...(known.throttledBy ? { scope: known.throttledBy.scope } : {}),
      })
    }

    app.post(
      '/api/auth/sign-in',
      {
        // Each attempt costs an argon2 hash: bounded per address, so a burst cannot take the CPU from everyone else.
        config: { access: 'public', rateLimit: SIGN_IN_LIMIT },
        schema: {
          tags: ['auth'],
          summary: 'Signs in with email and password; sets the session cookie',
          description:
            'One answer (401 SIGN_IN_FAILED) for every refusal: unknown email, wrong password, an account that cannot sign in. Wrong passwords are braked per account and per address (429 with Retry-After).',
          security: [],
          body: SignIn,
          response: { 200: Me, 401: ErrorBody, 429: ErrorBody },
        },
      },
      async (req, reply) => {
        const { email, password } = req.body
        const refusal = brake.check(req.ip, email)
        if (refusal) {
          // Refused unchecked, so no argon2 hash; still a guess, and recorded as one (the route's rate limit bounds the entries).
          await auditFailedSignIn(req, await registry.people.byEmail(email), 'throttled', { scope: refusal.scope })
          return throttled(reply, refusal)
        }
        const person = await registry.people.byEmail(email)
        // Always one argon2 verification (a dummy one without a hash): as slow for unknown emails as for known ones.
        const right = await verifyPassword(person?.passwordHash ?? null, password)
        const reason = !person
          ? 'unknown-email'
          : !person.passwordHash
            ? 'no-password'
            : !right
              ? 'wrong-password'
              : person.status !== 'active'
                ? `account-${person.status}`
                : null
        if (reason || !person) {
          brake.failed(req.ip, email)
          await auditFailedSignIn(req, person, reason ?? 'unknown-email')
          deps.log.info({ reason }, 'sign-in refused')
          return sendError(reply, 401, 'SIGN_IN_FAILED')
        }
        brake.succeeded(req.ip, email)
        const s = await startSession(req, reply, person.id)
        await registry.people.signedIn(person.id, new Date())
        const actor = `person:${person.id}`
        await audit(registry.audit, req, 'sign-in', actor, { method: 'password' }, actor)
        deps.log.info({ person: person.id, method: 'password' }, 'signed in')
        return meOf(person, s.csrf)
      },
    )

    app.post(
      '/api/auth/sign-out',
      {
        config: { access: 'signed-in-any-state' },
        schema: {
          tags: ['auth'],
          summary: 'Ends this session and clears the cookie (nothing to end for an API token)',
          response: { 204: z.null(), 401: ErrorBody, 403: ErrorBody },
        },
      },
      async (req, reply) => {
        const p = principalOf(req)
        const value = req.cookies[SESSION_COOKIE]
        if (p.via === 'session' && value) {
          await sessions.end(value)
          cookie.clear(req, reply)
          await audit(registry.audit, req, 'sign-out', p.actor)
        }
        return reply.code(204).send(null)
      },
    )

    app.get(
      '/api/me',
      {
        config: { access: 'signed-in-any-state' },
        schema: {
          tags: ['auth'],
          summary: 'Who is signed in, and the CSRF token to send with changes',
          response: { 200: Me, 401: ErrorBody },
        },
      },
      async (req) => {
        const p = principalOf(req)
        return {
          kind: p.kind,
          id: p.id,
          name: p.name,
          email: p.email,
          grants: p.grants,
          mustChangePassword: p.mustChangePassword,
          csrfToken: p.session?.csrf ?? null,
        }
      },
    )

    app.post(
      '/api/auth/password',
      {
        config: { access: 'signed-in-any-state' },
        schema: {
          tags: ['auth'],
          summary: 'Changes your password; signs out your other sessions and answers with a fresh one',
          body: PasswordChange,
          response: { 200: Me, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 429: ErrorBody },
        },
      },
      async (req, reply) => {
        const p = principalOf(req)
        if (p.via !== 'session' || p.kind !== 'person') {
          return sendError(reply, 403, 'FORBIDDEN', 'an API token has no password; sign in as a person to change yours')
        }
        const person = await registry.people.get(p.id)
        if (!person) return sendError(reply, 401, 'UNAUTHENTICATED')
        const { current, next } = req.body
        // A stolen session must not become a way to guess the password it does not know.
        const refusal = brake.check(req.ip, person.email)
        if (refusal) return throttled(reply, refusal)
        if (!(await verifyPassword(person.passwordHash, current))) {
          brake.failed(req.ip, person.email)
          await audit(registry.audit, req, 'sign-in-failed', p.actor, { method: 'password-change', reason: 'wrong-current-password' })
          return sendError(reply, 400, 'SIGN_IN_FAILED', 'the current password is wrong')
        }
        brake.succeeded(req.ip, person.email)
        const verdict = checkPassword(next, person.email)
        if (!verdict.ok) return sendError(reply, 400, 'PASSWORD_REJECTED', verdict.message)
        if (next === current) return sendError(reply, 400, 'PASSWORD_REJECTED', 'choose a password different from the current one')
        await registry.people.setPassword(person.id, await hashPassword(next), false)
        // Whoever else held a session on the old password is out; this browser carries on with a new one.
        await sessions.endAllFor(person.id)
        const s = await startSession(req, reply, person.id)
        await audit(registry.audit, req, 'password-changed', p.actor, { wasOneTime: person.mustChangePassword })
        return meOf({ ...person, mustChangePassword: false }, s.csrf)
      },
    )

    app.get(
      '/api/auth/invitations/:token',
      {
        config: { access: 'public' },
        schema: {
          tags: ['auth'],
          summary: 'Whom a live invitation is for, to greet them; the link stays unused',
          security: [],
          params: z.object({ token: z.string().min(1).max(100) }),
          response: { 200: z.object({ name: z.string(), email: z.string() }), 410: ErrorBody, 429: ErrorBody },
        },
      },
      async (req, reply) => {
        // Not audited while throttled: this route has no rate limit, and each refusal would be a write.
        const refusal = deps.guard.check(req.ip, INVITATION_IDENTITY, 'http')
        if (refusal) return throttled(reply, refusal)
        const tokenHash = registry.hasher.hash(`invitation:${req.params.token}`)
        const id = await registry.people.peekInvitation(tokenHash, Date.now())
        const person = id ? await registry.people.get(id) : undefined
        if (person?.status !== 'invited') {
          deps.guard.failed(req.ip, INVITATION_IDENTITY, 'http')
          await auditRefusedLink(req, tokenHash, 'open', { person })
          return sendError(reply, 410, 'NOT_FOUND', INVITATION_GONE)
        }
        return { name: person.name, email: person.email }
      },
    )

    app.post(
      '/api/auth/invitations/accept',
      {
        config: { access: 'public', rateLimit: SIGN_IN_LIMIT },
        schema: {
          tags: ['auth'],
          summary: 'Accepts an invitation: chooses a password, activates the account and signs in',
          description: 'The link works once and expires; a used, expired or unknown link answers 410.',
          security: [],
          body: Accept,
          response: { 200: Me, 400: ErrorBody, 410: ErrorBody, 429: ErrorBody },
        },
      },
      async (req, reply) => {
        const { token, password } = req.body
        const tokenHash = registry.hasher.hash(`invitation:${token}`)
        const refusal = deps.guard.check(req.ip, INVITATION_IDENTITY, 'http')
        if (refusal) {
          await auditRefusedLink(req, tokenHash, 'accept', { throttledBy: refusal })
          return throttled(reply, refusal)
        }
        // Judged before the link is used, so a weak password does not burn it.
        const invited = await registry.people.peekInvitation(tokenHash, Date.now())
        const invitee = invited ? await registry.people.get(invited) : undefined
        const verdict = checkPassword(password, invitee?.email ?? null)
        if (!verdict.ok) return sendError(reply, 400, 'PASSWORD_REJECTED', verdict.message)
        const hash = await hashPassword(password)

        const personId = await registry.people.useInvitation(tokenHash, Date.now())
        const person = personId ? await registry.people.get(personId) : undefined
        // Only someone who has not signed up yet: an active person's stray link must not reset their password, nor a disabled one's revive them.
        if (person?.status !== 'invited') {
          deps.guard.failed(req.ip, INVITATION_IDENTITY, 'http')
          await auditRefusedLink(req, tokenHash, 'accept', { person })
          return sendError(reply, 410, 'NOT_FOUND', INVITATION_GONE)
        }
        deps.guard.succeeded(req.ip)
        await registry.people.setPassword(person.id, hash, false)
        await registry.people.setStatus(person.id, 'active')
        const s = await startSession(req, reply, person.id)
        await registry.people.signedIn(person.id, new Date())
        const actor = `person:${person.id}`
        await audit(registry.audit, req, 'invitation-accepted', actor, undefined, actor)
        return meOf({ ...person, mustChangePassword: false }, s.csrf)
      },
    )
  }
