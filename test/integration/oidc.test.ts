import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Grant } from '#devices'
import { grantsFromGroups, groupsOf, sameGrants } from '../../dashboards/access/oidc-grants.ts'
import { hashPassword } from '../../dashboards/access/passwords.ts'
import { noteSecret } from '../helpers/log-capture.ts'
import { type AccountClaims, createBrowser, listenProvider, signInThroughProvider, type TestProvider } from '../helpers/oidc-provider.ts'
import { putArea } from '../helpers/people.ts'
import { startService, type TestService } from '../helpers/service.ts'

interface ErrorAnswer {
  error: { code: string; message: string; hint: string }
}
interface MeAnswer {
  kind: string
  id: string
  name: string
  email: string | null
  grants: Grant[]
  csrfToken: string | null
}

const NO_GROUP = 'Your account is not in any group this service knows; ask an administrator to give you a role'
const NO_LONGER = 'You are no longer in any group this service knows; ask an administrator'
const LINK_REFUSED = 'an account with this email already exists; ask an administrator'
const GROUP_MAP = { 'waste-north': [{ role: 'crew', areas: ['north'] }], 'council-admins': [{ role: 'admin', areas: null }] }
const ADMIN: Grant[] = [{ role: 'admin', areas: null }]
const CREW_NORTH: Grant[] = [{ role: 'crew', areas: ['north'] }]

const account = (email: string, name: string, groups: string[], verified = true): AccountClaims => ({
  email,
  email_verified: verified,
  name,
  groups,
})
const ACCOUNTS: Record<string, AccountClaims> = {
  alice: account('alice@council.example', 'Alice Crew', ['waste-north']),
  bob: account('bob@council.example', 'Bob Stranger', ['unknown-group']),
  carol: account('carol@council.example', 'Carol Housing', []),
  eve: account('eve@council.example', 'Eve Unverified', ['waste-north'], false),
  frank: account('frank@council.example', 'Frank Tokens', ['waste-north', 'unknown-group']),
  ivan: account('ivan@council.example', 'Ivan Leaver', ['waste-north']),
  // Entra ID sends no email_verified at all (and lets people set their own address).
  'hana-unchecked': { email: 'hana@council.example', name: 'Hana Elsewhere', groups: [] } as Omit<
    AccountClaims,
    'email_verified'
  > as AccountClaims,
  hana: account('hana@council.example', 'Hana Invited', []),
  pat: account('pat@council.example', 'Pat Password', ['waste-north']),
  val: account('val@council.example', 'Val Invited Admin', ['waste-north']),
  jo: account('jo@council.example', 'Jo Admin', ['council-admins']),
}

/** Set-Cookie lines of an answer by cookie name. */
const setCookies = (res: Response) =>
  new Map(
    res.headers.getSetCookie().map((line) => {
      const [pair] = line.split(';')
      return [pair!.slice(0, pair!.indexOf('=')), line] as const
    }),
  )

describe('the group map', () => {
  it('reads a groups claim as a list, a single string, or nothing', () => {
    expect(groupsOf(['a', 'b', 3, ''])).toEqual(['a', 'b'])
    expect(groupsOf('a')).toEqual(['a'])
    expect(groupsOf(undefined)).toEqual([])
    expect(groupsOf({ a: 1 })).toEqual([])
  })

  it('unions the grants of every mapped group, one grant per role, and ignores unknown and inherited names', () => {
    const map: Record<string, Grant[]> = {
      north: [{ role: 'crew', areas: ['north'] }],
      south: [
        { role: 'crew', areas: ['south', 'north'] },
        { role: 'viewer', areas: ['south'] },
      ],
      everywhere: [{ role: 'viewer', areas: null }],
      admins: [{ role: 'admin', areas: null }],
    }
    expect(grantsFromGroups(['north', 'south', 'nope'], map)).toEqual([
      { role: 'crew', areas: ['north', 'south'] },
      { role: 'viewer', areas: ['south'] },
    ])
    expect(grantsFromGroups(['south', 'everywhere'], map)).toEqual([
      { role: 'crew', areas: ['south', 'north'] },
      { role: 'viewer', areas: null },
    ])
    expect(grantsFromGroups(['constructor', '__proto__', 'toString'], map)).toEqual([])
    expect(grantsFromGroups(['admins', 'north'], map)).toEqual([
      { role: 'admin', areas: null },
      { role: 'crew', areas: ['north'] },
    ])
  })

  it('refuses a union that no person can hold, and compares grants whatever their order', () => {
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`g${i}`, [{ role: 'crew', areas: [`a${i}`] }] as Grant[]]))
    expect(grantsFromGroups(Object.keys(many), many)).toBe('invalid')
    expect(
      sameGrants(
        [
          { role: 'crew', areas: ['b', 'a'] },
          { role: 'viewer', areas: null },
        ],
        [
          { role: 'viewer', areas: null },
          { role: 'crew', areas: ['a', 'b'] },
        ],
      ),
    ).toBe(true)
    expect(sameGrants([{ role: 'crew', areas: ['a'] }], [{ role: 'crew', areas: null }])).toBe(false)
  })
})

describe('single sign-on against a real OpenID provider', () => {
  let idp: TestProvider
  let svc: TestService
  const start = () => `${svc.url}/api/auth/oidc/start`
  const signIn = (login: string) => signInThroughProvider(createBrowser(), start(), idp.issuer, login)
  const me = (cookie: string) => fetch(`${svc.url}/api/me`, { headers: { cookie } })
  const sessionOf = (res: Response) => setCookies(res).get('sp_session')!.split(';')[0]!
  /** Serves the provider again with these accounts (say, after a person's groups changed there). */
  const provide = (accounts: Record<string, AccountClaims>) => idp.configure({ redirectUri: `${svc.url}/api/auth/oidc/callback`, accounts })
  const passwordSignIn = (email: string, password: string) =>
    fetch(`${svc.url}/api/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    })
  const refusedLink = async (res: Response) => {
    expect(res.status).toBe(403)
    expect(((await res.json()) as ErrorAnswer).error).toMatchObject({ code: 'FORBIDDEN', message: LINK_REFUSED })
    expect(setCookies(res).has('sp_session')).toBe(false)
  }
  const lastFailure = async (sub: string) =>
    (await svc.service.registry.audit.list({ action: 'sign-in-failed' })).find((e) => e.detail?.sub === sub)

  beforeAll(async () => {
    // The provider listens first (its issuer URL goes into the service's config) and is
    // configured once the service's callback URL is known. Discovery happens at the first
    // sign-in, so nothing is asked of the provider before then.
    idp = await listenProvider()
    svc = await startService({
      OIDC_ISSUER: idp.issuer,
      OIDC_CLIENT_ID: idp.clientId,
      OIDC_CLIENT_SECRET: idp.clientSecret,
      OIDC_GROUP_MAP: JSON.stringify(GROUP_MAP),
    })
    idp.configure({ redirectUri: `${svc.url}/api/auth/oidc/callback`, accounts: ACCOUNTS })
    await putArea(svc.service.registry, { id: 'north', name: 'North', kind: 'ward', sites: ['leeds-north'] })
  })
  afterAll(async () => {
    await svc?.close()
    await idp?.close()
  })

  it('says single sign-on is offered, and where it starts', async () => {
    const res = await fetch(`${svc.url}/api/auth/providers`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ password: true, sso: { name: 'Council sign-in', start: '/api/auth/oidc/start' } })
  })

  it('starts with PKCE, state and nonce kept server-side behind a short-lived cookie', async () => {
    const res = await fetch(start(), { redirect: 'manual' })
    expect(res.status).toBe(302)
    const to = new URL(res.headers.get('location')!)
    expect(to.origin).toBe(idp.issuer)
    const q = to.searchParams
    expect(q.get('response_type')).toBe('code')
    expect(q.get('client_id')).toBe(idp.clientId)
    expect(q.get('redirect_uri')).toBe(`${svc.url}/api/auth/oidc/callback`)
    expect(q.get('scope')).toBe('openid email profile')
    expect(q.get('code_challenge_method')).toBe('S256')
    expect(q.get('code_challenge')).toMatch(/^[\w-]{43}$/)
    expect(q.get('state')).toMatch(/^[\w-]{20,}$/)
    expect(q.get('nonce')).toMatch(/^[\w-]{20,}$/)
    const cookie = setCookies(res).get('sp_oidc')!
    expect(cookie).toMatch(/HttpOnly/i)
    expect(cookie).toMatch(/SameSite=Lax/i)
    expect(cookie).toMatch(/Path=\/api\/auth\/oidc(;|$)/)
    expect(cookie).toMatch(/Max-Age=600(;|$)/)
    // The verifier never leaves the server: only its S256 challenge is in the URL.
    expect(cookie.split(';')[0]!.length).toBeLessThan(60)
  })

  it('signs in a user whose group maps to crew in north with exactly that scope', async () => {
    const { res, callbackUrl } = await signIn('alice')
    expect(res.status, await res.clone().text()).toBe(302)
    expect(res.headers.get('location')).toBe('/')
    expect(callbackUrl?.searchParams.get('iss')).toBe(idp.issuer)

    const cookies = setCookies(res)
    const session = cookies.get('sp_session')!
    expect(session).toMatch(/HttpOnly/i)
    expect(session).toMatch(/SameSite=Lax/i)
    expect(session).toMatch(/Path=\/(;|$)/)
    expect(session).not.toMatch(/Secure/i)
    const maxAge = Number(/Max-Age=(\d+)/i.exec(session)![1])
    expect(Math.abs(maxAge - 12 * 3600)).toBeLessThanOrEqual(5)
    expect(cookies.get('sp_oidc')).toMatch(/sp_oidc=;.*Expires=Thu, 01 Jan 1970/)

    const cookie = session.split(';')[0]!
    const who = await me(cookie)
    expect(who.status).toBe(200)
    const body = (await who.json()) as MeAnswer
    expect(body).toMatchObject({ kind: 'person', name: 'Alice Crew', email: 'alice@council.example' })
    expect(body.grants).toEqual([{ role: 'crew', areas: ['north'] }])

    expect((await fetch(`${svc.url}/api/rounds`, { headers: { cookie } })).status).toBe(200)
    const admin = await fetch(`${svc.url}/api/quarantine`, { headers: { cookie } })
    expect(admin.status).toBe(403)
    expect(((await admin.json()) as ErrorAnswer).error.code).toBe('FORBIDDEN')

    const person = (await svc.service.registry.people.byEmail('alice@council.example'))!
    expect(person).toMatchObject({ id: body.id, status: 'active', sso: true, passwordHash: null, oidcSubject: `${idp.issuer} alice` })
    expect(person.lastSignInAt).not.toBeNull()
    // The spec-conforming provider gave only sub in the ID token: email, name and groups came from userinfo.
    expect(idp.userinfoCalls).toBeGreaterThan(0)
  })

  it('signs the same person in again by subject, without a second account', async () => {
    const before = await svc.service.registry.people.count()
    const { res } = await signIn('alice')
    expect(res.status).toBe(302)
    expect(await svc.service.registry.people.count()).toBe(before)
  })

  it('refuses a user with no mapped group with a clear message, no session and no account', async () => {
    const { res } = await signIn('bob')
    expect(res.status).toBe(403)
    const body = (await res.json()) as ErrorAnswer
    expect(body.error.code).toBe('FORBIDDEN')
    expect(body.error.message).toBe(NO_GROUP)
    expect(setCookies(res).has('sp_session')).toBe(false)
    expect(await svc.service.registry.people.byEmail('bob@council.example')).toBeUndefined()
  })

  it('links an invited person by email and keeps the grants an administrator gave when no group maps', async () => {
    const { registry } = svc.service
    const invited = await registry.people.create({
      email: 'carol@council.example',
      name: 'Carol',
      grants: [{ role: 'housing', areas: ['north'] }],
      status: 'invited',
      passwordHash: null,
      mustChangePassword: false,
      createdBy: 'admin-token',
    })
    const { res } = await signIn('carol')
    expect(res.status).toBe(302)
    const cookie = setCookies(res).get('sp_session')!.split(';')[0]!
    const body = (await (await me(cookie)).json()) as MeAnswer
    expect(body.id).toBe(invited.id)
    expect(body.grants).toEqual([{ role: 'housing', areas: ['north'] }])
    expect(await registry.people.get(invited.id)).toMatchObject({
      status: 'active',
      sso: true,
      oidcSubject: `${idp.issuer} carol`,
      grantsSource: 'admin',
    })
    // Still no mapped group: the administrator's grants are not the group map's to take away.
    const again = await signIn('carol')
    expect(again.res.status).toBe(302)
    expect(((await (await me(sessionOf(again.res))).json()) as MeAnswer).grants).toEqual([{ role: 'housing', areas: ['north'] }])
  })

  it('does not link an existing person by an email address the provider has not verified', async () => {
    const { registry } = svc.service
    const existing = await registry.people.create({
      email: 'eve@council.example',
      name: 'Eve',
      grants: [{ role: 'admin', areas: null }],
      status: 'active',
      passwordHash: null,
      mustChangePassword: false,
      createdBy: 'admin-token',
    })
    const { res } = await signIn('eve')
    await refusedLink(res)
    expect((await registry.people.get(existing.id))!.oidcSubject).toBeNull()
  })

  it('signs a person the group map let in out everywhere, and refuses them, once they leave every mapped group', async () => {
    const { registry } = svc.service
    const first = await signIn('ivan')
    expect(first.res.status).toBe(302)
    const earlier = sessionOf(first.res)
    expect((await me(earlier)).status).toBe(200)
    const ivan = (await registry.people.byEmail('ivan@council.example'))!
    expect(ivan).toMatchObject({ grants: CREW_NORTH, grantsSource: 'sso', status: 'active' })

    provide({ ...ACCOUNTS, ivan: { ...ACCOUNTS.ivan!, groups: ['unknown-group'] } })
    try {
      const { res } = await signIn('ivan')
      expect(res.status).toBe(403)
      expect(((await res.json()) as ErrorAnswer).error).toMatchObject({ code: 'FORBIDDEN', message: NO_LONGER })
      expect(setCookies(res).has('sp_session')).toBe(false)
      const gone = await me(earlier)
      expect(gone.status).toBe(401)
      expect(((await gone.json()) as ErrorAnswer).error.code).toBe('UNAUTHENTICATED')
      expect(await lastFailure('ivan')).toMatchObject({
        actor: 'anonymous',
        target: `person:${ivan.id}`,
        detail: { method: 'oidc', reason: 'no-mapped-group' },
      })
    } finally {
      provide(ACCOUNTS)
    }
    // Back in the group at the provider: back in here.
    const back = await signIn('ivan')
    expect(back.res.status).toBe(302)
    expect(((await (await me(sessionOf(back.res))).json()) as MeAnswer).grants).toEqual(CREW_NORTH)
  })

  it('links an invited person only on an address the provider verified, then drops their password and invitation links', async () => {
    const { registry } = svc.service
    const oldPassword = 'an old password from before sso'
    noteSecret(oldPassword)
    noteSecret('a brand new passphrase')
    const invited = await registry.people.create({
      email: 'hana@council.example',
      name: 'Hana',
      grants: [{ role: 'energy', areas: ['north'] }],
      status: 'invited',
      passwordHash: await hashPassword(oldPassword),
      mustChangePassword: false,
      createdBy: 'admin-token',
    })
    const link = randomBytes(32).toString('base64url')
    noteSecret(link)
    const linkHash = registry.hasher.hash(`invitation:${link}`)
    await registry.people.addInvitation(linkHash, invited.id, Date.now() + 3_600_000, 'admin-token')

    // An account at the provider that only claims the address (no email_verified) links nothing.
    await refusedLink((await signIn('hana-unchecked')).res)
    expect(await registry.people.get(invited.id)).toMatchObject({ status: 'invited', oidcSubject: null })
    expect(await lastFailure('hana-unchecked')).toMatchObject({
      target: `person:${invited.id}`,
      detail: { method: 'oidc', reason: 'link-refused', because: 'email-not-verified' },
    })

    const { res } = await signIn('hana')
    expect(res.status).toBe(302)
    expect(((await (await me(sessionOf(res))).json()) as MeAnswer).id).toBe(invited.id)
    expect(await registry.people.get(invited.id)).toMatchObject({
      status: 'active',
      oidcSubject: `${idp.issuer} hana`,
      passwordHash: null,
      grantsSource: 'admin',
    })
    expect(await registry.people.peekInvitation(linkHash, Date.now())).toBeUndefined()
    const accept = await fetch(`${svc.url}/api/auth/invitations/accept`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: link, password: 'a brand new passphrase' }),
    })
    expect(accept.status).toBe(410)
    for (const password of [oldPassword, 'a brand new passphrase']) {
      const signInRes = await passwordSignIn('hana@council.example', password)
      expect(signInRes.status).toBe(401)
      expect(((await signInRes.json()) as ErrorAnswer).error.code).toBe('SIGN_IN_FAILED')
    }
    const signIns = await registry.audit.list({ action: 'sign-in' })
    expect(signIns.find((e) => e.actor === `person:${invited.id}`)?.detail).toMatchObject({ method: 'oidc', linked: true })
  })

  it('never links an active person with a password, nor an administrator, even on a verified address', async () => {
    const { registry } = svc.service
    const password = 'pat keeps this passphrase'
    noteSecret(password)
    const pat = await registry.people.create({
      email: 'pat@council.example',
      name: 'Pat',
      grants: [{ role: 'viewer', areas: null }],
      status: 'active',
      passwordHash: await hashPassword(password),
      mustChangePassword: false,
      createdBy: 'admin-token',
    })
    const val = await registry.people.create({
      email: 'val@council.example',
      name: 'Val',
      grants: ADMIN,
      status: 'invited',
      passwordHash: null,
      mustChangePassword: false,
      createdBy: 'admin-token',
    })
    const count = await registry.people.count()

    await refusedLink((await signIn('pat')).res)
    expect(await lastFailure('pat')).toMatchObject({ detail: { reason: 'link-refused', because: 'account-active' } })
    await refusedLink((await signIn('val')).res)
    expect(await lastFailure('val')).toMatchObject({ detail: { reason: 'link-refused', because: 'admin' } })

    expect(await registry.people.count()).toBe(count)
    expect(await registry.people.get(pat.id)).toMatchObject({ oidcSubject: null, grants: [{ role: 'viewer', areas: null }] })
    expect(await registry.people.get(val.id)).toMatchObject({ oidcSubject: null, status: 'invited', grants: ADMIN })
    expect((await passwordSignIn('pat@council.example', password)).status).toBe(200)
  })

  it('keeps the admin role of the last active administrator when their groups stop giving it, and audits why', async () => {
    const { registry } = svc.service
    const first = await signIn('jo')
    expect(first.res.status).toBe(302)
    const jo = (await registry.people.byEmail('jo@council.example'))!
    expect(jo).toMatchObject({ grants: ADMIN, grantsSource: 'sso' })
    // Jo is made the only active administrator.
    for (const p of await registry.people.list()) {
      if (p.id !== jo.id && p.status === 'active' && p.grants.some((g) => g.role === 'admin'))
        await registry.people.setStatus(p.id, 'disabled')
    }

    provide({ ...ACCOUNTS, jo: { ...ACCOUNTS.jo!, groups: ['waste-north'] } })
    try {
      const kept = await signIn('jo')
      expect(kept.res.status).toBe(302)
      expect(((await (await me(sessionOf(kept.res))).json()) as MeAnswer).grants).toEqual(ADMIN)
      expect((await registry.people.get(jo.id))!.grants).toEqual(ADMIN)
      const entries = await registry.audit.list({ action: 'person-grants-kept' })
      expect(entries.find((e) => e.target === `person:${jo.id}`)).toMatchObject({
        actor: 'system',
        detail: { source: 'oidc-group-map', reason: 'last-admin', kept: ADMIN, mapped: CREW_NORTH },
      })

      // With another active administrator, the group map applies.
      await registry.people.create({
        email: 'second-admin@council.example',
        name: 'Second Admin',
        grants: ADMIN,
        status: 'active',
        passwordHash: null,
        mustChangePassword: false,
        createdBy: 'admin-token',
      })
      const changed = await signIn('jo')
      expect(changed.res.status).toBe(302)
      expect((await registry.people.get(jo.id))!.grants).toEqual(CREW_NORTH)
      const latest = (await registry.audit.list({ action: 'person-grants-changed' })).find((e) => e.target === `person:${jo.id}`)
      expect(latest?.detail).toEqual({ source: 'oidc-group-map', before: ADMIN, after: CREW_NORTH })
    } finally {
      provide(ACCOUNTS)
    }
  })

  it('updates an SSO person’s grants from the group map and audits the change', async () => {
    const { registry } = svc.service
    const before = (await registry.people.byEmail('frank@council.example')) ?? null
    expect(before).toBeNull()
    const first = await signIn('frank')
    expect(first.res.status).toBe(302)
    const frank = (await registry.people.byEmail('frank@council.example'))!
    // An administrator changes Frank's grants; while his groups map, the next sign-in puts the group map's back.
    await registry.people.setGrants(frank.id, [{ role: 'viewer', areas: null }])
    const again = await signIn('frank')
    expect(again.res.status).toBe(302)
    expect(await registry.people.get(frank.id)).toMatchObject({ grants: [{ role: 'crew', areas: ['north'] }], grantsSource: 'sso' })
    const changed = await registry.audit.list({ action: 'person-grants-changed' })
    expect(changed.find((e) => e.target === `person:${frank.id}`)).toMatchObject({
      actor: 'system',
      detail: { source: 'oidc-group-map', before: [{ role: 'viewer', areas: null }], after: [{ role: 'crew', areas: ['north'] }] },
    })
  })

  it('answers 400 SSO_FAILED to a callback without the sign-in cookie, with a wrong state, or replayed', async () => {
    const bare = await fetch(`${svc.url}/api/auth/oidc/callback?code=abc&state=xyz`, { redirect: 'manual' })
    expect(bare.status).toBe(400)
    expect(((await bare.json()) as ErrorAnswer).error).toMatchObject({
      code: 'SSO_FAILED',
      message: 'sign-in took too long or started elsewhere; start again',
    })

    const browser = createBrowser()
    const started = await browser.get(start())
    expect(started.status).toBe(302)
    expect(browser.cookie(svc.url, 'sp_oidc')).toBeTruthy()
    const wrong = await browser.get(`${svc.url}/api/auth/oidc/callback?code=abc&state=not-the-state&iss=${encodeURIComponent(idp.issuer)}`)
    expect(wrong.status).toBe(400)
    expect(((await wrong.json()) as ErrorAnswer).error.code).toBe('SSO_FAILED')
    expect(setCookies(wrong).has('sp_session')).toBe(false)

    // A real callback, cookie and all, sent a second time finds no pending sign-in: each start is good once.
    const { res, callbackUrl, oidcCookie } = await signIn('alice')
    expect(res.status).toBe(302)
    expect(oidcCookie).toBeTruthy()
    const replay = await fetch(callbackUrl!, { headers: { cookie: `sp_oidc=${oidcCookie}` }, redirect: 'manual' })
    expect(replay.status).toBe(400)
    expect(((await replay.json()) as ErrorAnswer).error).toMatchObject({
      code: 'SSO_FAILED',
      message: 'sign-in took too long or started elsewhere; start again',
    })
  })

  it('audits OIDC sign-ins and refusals, with the method and the reason', async () => {
    const { registry } = svc.service
    const alice = (await registry.people.byEmail('alice@council.example'))!
    const signIns = await registry.audit.list({ action: 'sign-in' })
    expect(signIns.find((e) => e.actor === `person:${alice.id}`)).toMatchObject({
      target: `person:${alice.id}`,
      detail: { method: 'oidc' },
      address: expect.any(String),
    })
    const failures = await registry.audit.list({ action: 'sign-in-failed' })
    expect(failures.find((e) => e.detail?.sub === 'bob')).toMatchObject({
      actor: 'anonymous',
      target: null,
      detail: { method: 'oidc', reason: 'no-mapped-group' },
    })
    expect(failures.find((e) => e.detail?.sub === 'eve')).toMatchObject({
      detail: { method: 'oidc', reason: 'link-refused', because: 'email-not-verified' },
    })
  })

  it('reads the claims from the ID token when the provider puts them there, without calling userinfo', async () => {
    idp.configure({ redirectUri: `${svc.url}/api/auth/oidc/callback`, accounts: ACCOUNTS, claimsInIdToken: true })
    const calls = idp.userinfoCalls
    const { res } = await signIn('alice')
    expect(res.status).toBe(302)
    expect(idp.userinfoCalls).toBe(calls)
    const cookie = setCookies(res).get('sp_session')!.split(';')[0]!
    expect(((await (await me(cookie)).json()) as MeAnswer).grants).toEqual([{ role: 'crew', areas: ['north'] }])
  })
})

describe('single sign-on when it is not configured, or the provider is down', () => {
  it('offers password sign-in only and registers no SSO routes', async () => {
    const svc = await startService()
    try {
      const res = await fetch(`${svc.url}/api/auth/providers`)
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ password: true, sso: null })
      expect((await fetch(`${svc.url}/api/auth/oidc/start`, { redirect: 'manual' })).status).toBe(404)
      expect((await fetch(`${svc.url}/api/auth/oidc/callback`, { redirect: 'manual' })).status).toBe(404)
    } finally {
      await svc.close()
    }
  })

  it('answers 503 SSO_FAILED while the provider cannot be reached, and works once it can', async () => {
    const idp = await listenProvider()
    const svc = await startService({ OIDC_ISSUER: idp.issuer, OIDC_CLIENT_ID: idp.clientId, OIDC_CLIENT_SECRET: idp.clientSecret })
    try {
      // Not configured yet: the provider answers 503 to discovery.
      const down = await fetch(`${svc.url}/api/auth/oidc/start`, { redirect: 'manual' })
      expect(down.status).toBe(503)
      expect(((await down.json()) as ErrorAnswer).error).toMatchObject({
        code: 'SSO_FAILED',
        message: 'the council identity provider could not be reached; try again in a minute',
      })
      idp.configure({ redirectUri: `${svc.url}/api/auth/oidc/callback`, accounts: ACCOUNTS })
      const up = await fetch(`${svc.url}/api/auth/oidc/start`, { redirect: 'manual' })
      expect(up.status).toBe(302)
      expect(new URL(up.headers.get('location')!).origin).toBe(idp.issuer)
    } finally {
      await svc.close()
      await idp.close()
    }
  })
})
