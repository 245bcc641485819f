import { randomBytes } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { type Grant, Grants, NewInvitation, Person } from '#devices'
import { type PersonRecord, publicPerson } from '../../store/people-store.ts'
import type { AccountDeps } from '../access/accounts.ts'
import { audit } from '../access/audit.ts'
import { actorOf, principalOf } from '../access/route-access.ts'
import { ErrorBody, sendError } from '../errors.ts'
import { unknownAreas } from './areas.ts'

const Params = z.object({ id: z.string().min(1).max(64) })
const Invitation = z.object({
  url: z.string().describe('the one-time sign-up link; shown here only, send it to the person'),
  expiresAt: z.string(),
})
const Invited = z.object({ person: Person, invitation: Invitation })
const DirectoryEntry = z.object({ id: z.string(), name: z.string() })

const isAdmin = (grants: readonly Grant[]) => grants.some((g) => g.role === 'admin')

/** Administrators invite people, change their roles and areas, and disable them. */
export const peopleRoutes =
  (deps: AccountDeps & { invitationTtlMs: number }): FastifyPluginAsyncZod =>
  async (app) => {
    const { registry } = deps
    const people = registry.people

    /** A new one-time link; only its keyed hash is stored, so the link is shown once and a copy of the database opens nothing. */
    const invite = async (req: FastifyRequest, personId: string) => {
      const token = randomBytes(32).toString('base64url')
      const expiresAt = Date.now() + deps.invitationTtlMs
      await people.addInvitation(registry.hasher.hash(`invitation:${token}`), personId, expiresAt, actorOf(req))
      const base = (deps.publicUrl ?? `${req.protocol}://${req.host}`).replace(/\/+$/, '')
      return { url: `${base}/?invitation=${token}`, expiresAt: new Date(expiresAt).toISOString() }
    }

    /** Whether taking the admin role from (or disabling) this person would leave no active administrator. */
    const lastActiveAdmin = async (p: PersonRecord) =>
      p.status === 'active' &&
      isAdmin(p.grants) &&
      !(await people.list()).some((o) => o.id !== p.id && o.status === 'active' && isAdmin(o.grants))

    const notFound = (reply: FastifyReply, id: string) => sendError(reply, 404, 'NOT_FOUND', `no person ${id}`)

    app.get(
      '/api/people',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['people'],
          description: 'Everyone who can (or was invited to) sign in, by email.',
          response: { 200: z.array(Person) },
        },
      },
      async () => (await people.list()).map(publicPerson),
    )

    app.get(
      '/api/people/directory',
      {
        config: { access: 'signed-in' },
        schema: {
          tags: ['people'],
          description: 'Active people by name, for choosing an assignee. No emails. Refused to roles that are not shown people (viewer).',
          response: { 200: z.array(DirectoryEntry), 403: ErrorBody },
        },
      },
      async (req, reply) => {
        if (!principalOf(req).scope.seesPeople) return sendError(reply, 403, 'FORBIDDEN')
        return (await people.list())
          .filter((p) => p.status === 'active')
          .map((p) => ({ id: p.id, name: p.name }))
          .sort((a, b) => a.name.localeCompare(b.name))
      },
    )

    app.get(
      '/api/people/:id',
      {
        config: { access: 'admin' },
        schema: { tags: ['people'], params: Params, response: { 200: Person, 404: ErrorBody } },
      },
      async (req, reply) => {
        const p = await people.get(req.params.id)
        return p ? publicPerson(p) : notFound(reply, req.params.id)
      },
    )

    app.post(
      '/api/people',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['people'],
          description:
            'Invites a person: they are listed as invited until they open the one-time link (answered here, once) and choose a password. Grants name existing areas.',
          body: NewInvitation,
          response: { 201: Invited, 400: ErrorBody, 409: ErrorBody },
        },
      },
      async (req, reply) => {
        const { email, name, grants } = req.body
        const unknown = await unknownAreas(registry.areas, grants, 'body.grants')
        if (unknown) return sendError(reply, 400, 'BAD_REQUEST', unknown.message, unknown.issues)
        const person = await people.createIfNew({
          email,
          name,
          grants,
          status: 'invited',
          passwordHash: null,
          mustChangePassword: false,
          createdBy: actorOf(req),
        })
        // The address is not echoed: answers end up in logs and screenshots.
        if (!person) return sendError(reply, 409, 'CONFLICT', 'a person with this email already exists')
        const invitation = await invite(req, person.id)
        await audit(registry.audit, req, 'invitation-created', `person:${person.id}`, { grants })
        return reply.code(201).send({ person: publicPerson(person), invitation })
      },
    )

    app.post(
      '/api/people/:id/invitation',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['people'],
          description: 'A fresh one-time link for a person who has not signed up yet; earlier links stop working.',
          params: Params,
          response: { 201: Invited, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (req, reply) => {
        const p = await people.get(req.params.id)
        if (!p) return notFound(reply, req.params.id)
        if (p.status !== 'invited') {
          return sendError(reply, 409, 'INVALID_TRANSITION', `the person is ${p.status}: only an invited person is sent a new link`)
        }
        await people.dropInvitations(p.id)
        const invitation = await invite(req, p.id)
        await audit(registry.audit, req, 'invitation-created', `person:${p.id}`, { grants: p.grants, renewed: true })
        return reply.code(201).send({ person: publicPerson(p), invitation })
      },
    )

    app.put(
      '/api/people/:id/grants',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['people'],
          description:
            "Replaces the person's roles and areas. They are signed out everywhere, so the new scope applies at once. The last active administrator keeps the admin role.",
          params: Params,
          body: z.strictObject({ grants: Grants }),
          response: { 200: Person, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (req, reply) => {
        const { grants } = req.body
        const unknown = await unknownAreas(registry.areas, grants, 'body.grants')
        if (unknown) return sendError(reply, 400, 'BAD_REQUEST', unknown.message, unknown.issues)
        const p = await people.get(req.params.id)
        if (!p) return notFound(reply, req.params.id)
        if (!isAdmin(grants) && (await lastActiveAdmin(p))) {
          return sendError(
            reply,
            409,
            'INVALID_TRANSITION',
            'this is the last active administrator: give another active person the admin role first, or nobody could manage people',
          )
        }
        const after = await people.setGrants(p.id, grants)
        if (!after) return notFound(reply, p.id)
        await deps.sessions.endAllFor(p.id)
        await audit(registry.audit, req, 'person-grants-changed', `person:${p.id}`, { before: p.grants, after: grants })
        return publicPerson(after)
      },
    )

    app.post(
      '/api/people/:id/disable',
      {
        config: { access: 'admin' },
        schema: {
          tags: ['people'],
          description: 'Disables the person: signed out everywhere, unused invitation links withdrawn, no further sign-in.',
          params: Params,
          response: { 200: Person, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (req, reply) => {
        const p = await people.get(req.params.id)
        if (!p) return notFound(reply, req.params.id)
        if (actorOf(req) === `person:${p.id}`) {
          return sendError(reply, 409, 'INVALID_TRANSITION', 'you cannot disable yourself; ask another administrator')
        }
        if (p.status === 'disabled') return publicPerson(p)
        if (await lastActiveAdmin(p)) {
          return sendError(
            reply,
            409,
            'INVALID_TRANSITION',
            'this is the last active administrator: give another active person the admin role first',
          )
        }
        await people.setStatus(p.id, 'disabled')
        await people.dropInvitations(p.id)
        await deps.sessions.endAllFor(p.id)
        await audit(registry.audit, req, 'person-disabled', `person:${p.id}`, { was: p.status })
        return publicPerson({ ...p, status: 'disabled' })
      },
    )
  }
