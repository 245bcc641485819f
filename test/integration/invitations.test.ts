import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Grant, Me } from '#devices'
import { hashPassword } from '../../dashboards/access/passwords.ts'
import { noteSecret } from '../helpers/log-capture.ts'
import { startService, type TestService } from '../helpers/service.ts'

const CREW: Grant[] = [{ role: 'crew', areas: ['north-round'] }]
const PASSWORD = 'lanterns along the towpath'
noteSecret(PASSWORD)

describe('accepting an invitation', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startService()
  })
  afterAll(async () => {
    await svc?.close()
  })

  /** What the admin route does when it invites someone: an invited person and a hashed one-time link token. */
  const invite = async (opts: { expiresInMs?: number; status?: 'invited' | 'active' | 'disabled' } = {}) => {
    const { registry } = svc.service
    const email = `new-${randomBytes(4).toString('hex')}@council.example`
    const p = await registry.people.create({
      email,
      name: 'Robin Crew',
      grants: CREW,
      status: opts.status ?? 'invited',
      passwordHash: null,
      mustChangePassword: false,
      createdBy: 'admin-token',
    })
    const token = randomBytes(32).toString('base64url')
    await registry.people.addInvitation(
      registry.hasher.hash(`invitation:${token}`),
      p.id,
      Date.now() + (opts.expiresInMs ?? 3_600_000),
      'admin-token',
    )
    return { id: p.id, email, token }
  }
  const accept = (token: string, password = PASSWORD) =>
    fetch(`${svc.url}/api/auth/invitations/accept`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, password }),
    })
  const signIn = (email: string, password: string) =>
    fetch(`${svc.url}/api/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    })
  /** Refused links recorded since `mark` (an audit id), oldest first: whose, where and why; never the link. */
  const refusedSince = async (mark: number) =>
    (await svc.service.registry.audit.list({ action: 'sign-in-failed', limit: 500 }))
      .filter((e) => e.id > mark && e.detail?.method === 'invitation')
      .reverse()
  const newestId = async () => (await svc.service.registry.audit.list({ limit: 1 }))[0]?.id ?? 0
  const gone = async (res: Response) => {
    expect(res.status).toBe(410)
    expect(await res.json()).toMatchObject({ error: { code: 'NOT_FOUND', message: expect.stringMatching(/used or has expired/) } })
    expect(res.headers.getSetCookie()).toEqual([])
  }

  it('sets the password, activates the account and signs in; the link then works no more', async () => {
    const inv = await invite()
    expect((await signIn(inv.email, PASSWORD)).status).toBe(401)

    const res = await accept(inv.token)
    expect(res.status).toBe(200)
    const me = (await res.json()) as Me
    expect(me).toMatchObject({ kind: 'person', id: inv.id, email: inv.email, name: 'Robin Crew', grants: CREW, mustChangePassword: false })
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('sp_session='))!
    expect(cookie).toMatch(/HttpOnly/i)
    const session = cookie.split(';')[0]!
    const mine = await fetch(`${svc.url}/api/me`, { headers: { cookie: session } })
    expect(await mine.json()).toMatchObject({ id: inv.id, csrfToken: me.csrfToken })
    expect((await svc.service.registry.people.get(inv.id))?.status).toBe('active')

    const mark = await newestId()
    await gone(await accept(inv.token, 'another passphrase entirely'))
    expect((await refusedSince(mark)).map(({ actor, target, detail }) => ({ actor, target, detail }))).toEqual([
      { actor: 'anonymous', target: `person:${inv.id}`, detail: { method: 'invitation', step: 'accept', reason: 'invitation-used' } },
    ])
    expect((await signIn(inv.email, 'another passphrase entirely')).status).toBe(401)
    expect((await signIn(inv.email, PASSWORD)).status).toBe(200)

    const audit = await svc.service.registry.audit.list({ action: 'invitation-accepted' })
    expect(audit.find((e) => e.target === `person:${inv.id}`)?.actor).toBe(`person:${inv.id}`)
  })

  it('works once when two tabs accept the same link at the same moment', async () => {
    const inv = await invite()
    const statuses = (await Promise.all([accept(inv.token), accept(inv.token, 'a different passphrase here')])).map((r) => r.status)
    expect(statuses.sort()).toEqual([200, 410])
  })

  it('refuses a weak password without using up the link', async () => {
    const inv = await invite()
    for (const weak of ['too short', 'qwerty123456', 'aaaaaaaaaaaaaaaa']) {
      const res = await accept(inv.token, weak)
      expect(res.status).toBe(400)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('PASSWORD_REJECTED')
    }
    expect((await accept(inv.token)).status).toBe(200)
  })

  it('answers 410 for an expired link, an unknown one, and one whose person was disabled, and audits each refusal with its reason', async () => {
    const mark = await newestId()
    const expired = await invite({ expiresInMs: -1_000 })
    await gone(await accept(expired.token))
    expect((await svc.service.registry.people.get(expired.id))?.status).toBe('invited')

    const unknown = randomBytes(32).toString('base64url')
    await gone(await accept(unknown))

    const disabled = await invite({ status: 'disabled' })
    await gone(await accept(disabled.token))
    expect((await signIn(disabled.email, PASSWORD)).status).toBe(401)

    const refused = await refusedSince(mark)
    expect(refused.map((e) => [e.actor, e.target, e.detail])).toEqual([
      ['anonymous', `person:${expired.id}`, { method: 'invitation', step: 'accept', reason: 'invitation-expired' }],
      ['anonymous', null, { method: 'invitation', step: 'accept', reason: 'invitation-unknown' }],
      ['anonymous', `person:${disabled.id}`, { method: 'invitation', step: 'accept', reason: 'account-disabled' }],
    ])
    for (const e of refused) expect(e.address).toMatch(/127\.0\.0\.1/)
    const text = JSON.stringify(refused)
    for (const secret of [expired.token, unknown, disabled.token, PASSWORD, expired.email, disabled.email])
      expect(text).not.toContain(secret)
  })

  it('answers 410 to the still-unused link of a person who is already active, and leaves their password alone', async () => {
    const inv = await invite()
    const { registry } = svc.service
    // Active by another way (single sign-on, or a second link) while this link lay unused in a mailbox.
    await registry.people.setPassword(inv.id, await hashPassword(PASSWORD), false)
    await registry.people.setStatus(inv.id, 'active')

    const mark = await newestId()
    await gone(await accept(inv.token, 'a passphrase of the finder'))
    expect((await refusedSince(mark)).map((e) => [e.target, e.detail?.reason])).toEqual([[`person:${inv.id}`, 'account-active']])
    expect((await signIn(inv.email, 'a passphrase of the finder')).status).toBe(401)
    expect((await signIn(inv.email, PASSWORD)).status).toBe(200)
    expect((await registry.people.get(inv.id))?.status).toBe('active')
    expect((await registry.audit.list({ action: 'invitation-accepted' })).some((e) => e.target === `person:${inv.id}`)).toBe(false)
  })

  it('greets the invitee by name without using the link, and judges the password against their email before using it', async () => {
    const inv = await invite()
    const peek = await fetch(`${svc.url}/api/auth/invitations/${inv.token}`)
    expect(peek.status).toBe(200)
    expect(await peek.json()).toEqual({ name: 'Robin Crew', email: inv.email })
    const ownEmail = await accept(inv.token, inv.email)
    expect(ownEmail.status).toBe(400)
    expect(await ownEmail.json()).toMatchObject({ error: { code: 'PASSWORD_REJECTED' } })
    // Neither the look nor the refused password used the link.
    expect((await fetch(`${svc.url}/api/auth/invitations/${inv.token}`)).status).toBe(200)
    expect((await accept(inv.token)).status).toBe(200)
    const mark = await newestId()
    await gone(await fetch(`${svc.url}/api/auth/invitations/${inv.token}`))
    await gone(await fetch(`${svc.url}/api/auth/invitations/${randomBytes(32).toString('base64url')}`))
    // Opening a spent or unknown link is refused and recorded as such, as accepting one is.
    expect((await refusedSince(mark)).map((e) => [e.target, e.detail])).toEqual([
      [`person:${inv.id}`, { method: 'invitation', step: 'open', reason: 'invitation-used' }],
      [null, { method: 'invitation', step: 'open', reason: 'invitation-unknown' }],
    ])
  })
})

describe('guessing invitation links', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startService()
  })
  afterAll(async () => {
    await svc?.close()
  })

  it('audits the guesses refused unchecked once the address is braked, as throttled', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 23; i++) {
      const res = await fetch(`${svc.url}/api/auth/invitations/accept`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: randomBytes(32).toString('base64url'), password: PASSWORD }),
      })
      statuses.push(res.status)
      await res.text()
    }
    // 20 free wrong links an address; the next one starts a block, and those after it are refused unchecked.
    expect(statuses.slice(0, 21)).toEqual(Array(21).fill(410))
    expect(statuses.slice(21)).toEqual([429, 429])
    const refused = (await svc.service.registry.audit.list({ action: 'sign-in-failed', limit: 100 })).reverse()
    expect(refused.map((e) => e.detail?.reason)).toEqual([...Array(21).fill('invitation-unknown'), 'throttled', 'throttled'])
    expect(refused.slice(21).map((e) => e.detail)).toEqual(
      Array(2).fill({ method: 'invitation', step: 'accept', reason: 'throttled', scope: 'address' }),
    )
  })
})
