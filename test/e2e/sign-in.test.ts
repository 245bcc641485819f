import { randomBytes } from 'node:crypto'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Grant } from '#devices'
import type { Service } from '../../service/service.ts'
import { keyboardAudit, launchChromium } from '../helpers/browser.ts'
import { listenProvider, type TestProvider } from '../helpers/oidc-provider.ts'
import { startService, type TestService } from '../helpers/service.ts'
import { checkAtSizes, createPerson, requireBuiltWebApp, WEB_ROOT } from '../helpers/web.ts'

const NEW_PASSWORD = 'copper kettle lighthouse marmalade'

describe('signing in from the web app (issue 10, sign-in)', () => {
  let svc: TestService
  let service: Service
  let browser: Browser
  let provider: TestProvider
  let url = ''
  const token = randomBytes(32).toString('base64url')

  /** A person who signs in with this password, made straight in the store (not through the routes under test). */
  const person = async (name: string, password: string, grants: Grant[], mustChangePassword = false) => {
    const email = `${name.split(' ')[0]!.toLowerCase()}-${randomBytes(3).toString('hex')}@council.example`
    const id = await createPerson(service.registry, { email, name, password, grants, mustChangePassword })
    return { id, email, password }
  }

  /** Invites a person (no password yet); returns the one-time link that an admin's invitation would send, valid for an hour. */
  const invitationLink = async (name: string, grants: Grant[]) => {
    const p = await service.registry.people.create({
      email: `${name.split(' ')[0]!.toLowerCase()}-${randomBytes(3).toString('hex')}@council.example`,
      name,
      grants,
      status: 'invited',
      passwordHash: null,
      mustChangePassword: false,
      createdBy: 'admin-token',
    })
    const link = randomBytes(32).toString('base64url')
    await service.registry.people.addInvitation(
      service.registry.hasher.hash(`invitation:${link}`),
      p.id,
      Date.now() + 3_600_000,
      'admin-token',
    )
    return link
  }

  beforeAll(async () => {
    requireBuiltWebApp()
    // A real OpenID provider, so that the page offers single sign-on beside the password.
    provider = await listenProvider()
    svc = await startService(
      {
        OIDC_ISSUER: provider.issuer,
        OIDC_CLIENT_ID: provider.clientId,
        OIDC_CLIENT_SECRET: provider.clientSecret,
        OIDC_GROUP_MAP: JSON.stringify({ 'waste-north': [{ role: 'crew', areas: ['north-ward'] }] }),
      },
      { webRoot: WEB_ROOT, token },
    )
    service = svc.service
    url = service.httpUrl
    provider.configure({
      redirectUri: `${url}/api/auth/oidc/callback`,
      accounts: { gail: { email: 'gail.porter@council.example', email_verified: true, name: 'Gail Porter', groups: ['waste-north'] } },
    })
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close()
    await svc?.close()
    await provider?.close()
  })

  /** A fresh browser profile (no cookies) on the sign-in page. */
  const open = async (path = '/', viewport = { width: 1024, height: 768 }): Promise<{ context: BrowserContext; page: Page }> => {
    const context = await browser.newContext({ viewport })
    const page = await context.newPage()
    await page.goto(`${url}${path}`)
    return { context, page }
  }

  const signIn = async (page: Page, email: string, password: string) => {
    await page.getByLabel('Email', { exact: true }).fill(email)
    await page.getByLabel('Password', { exact: true }).fill(password)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  }

  const sessionCookie = async (context: BrowserContext) => (await context.cookies(url)).find((c) => c.name === 'sp_session')

  /** Wider than the screen means a sideways scroll on a phone. */
  const scrollsSideways = (page: Page) => page.evaluate('document.documentElement.scrollWidth > window.innerWidth')

  it('signs in with email and password: the header names the person and roles, the alerts load, and the cookie is beyond the script', async () => {
    const ada = await person('Ada Lovelace', 'analytical engine punch cards', [{ role: 'crew', areas: ['north-ward'] }])
    const { context, page } = await open('/#all')
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()

    const alertsLoaded = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/alerts')
    await signIn(page, ada.email, ada.password)
    await page.getByRole('heading', { name: 'Live alerts' }).waitFor({ timeout: 5_000 })
    expect((await alertsLoaded).status()).toBe(200)
    expect(await page.locator('#me-name').textContent()).toBe('Ada Lovelace')
    expect(await page.locator('#me-roles').textContent()).toBe('crew in north-ward')
    await expect.poll(() => page.locator('#conn').textContent()).toBe('live')
    expect(await page.locator('#sign-in-view').isHidden()).toBe(true)

    const cookie = await sessionCookie(context)
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' })
    expect(await page.evaluate('document.cookie')).not.toContain('sp_session')
    // Nothing about the session is kept where scripts (or the next person at this computer) could read it.
    expect(await page.evaluate('[localStorage.length, sessionStorage.length]')).toEqual([0, 0])

    // A reload finds the session through the cookie alone.
    await page.reload()
    await page.getByRole('heading', { name: 'Live alerts' }).waitFor({ timeout: 5_000 })
    expect(await page.locator('#me-name').textContent()).toBe('Ada Lovelace')
    await context.close()
  })

  it('a wrong password: the message is in the live region, the form stays, and no cookie is set', async () => {
    const bea = await person('Bea Wright', 'several unrelated words here', [{ role: 'viewer', areas: null }])
    const { context, page } = await open()
    await signIn(page, bea.email, 'not the right password at all')
    const message = page.locator('#sign-in-message')
    await expect.poll(() => message.textContent()).toMatch(/email or password/i)
    expect(await message.getAttribute('role')).toBe('alert')
    expect(await message.getAttribute('class')).toBe('error')
    expect(await page.getByLabel('Password', { exact: true }).inputValue()).toBe('')
    expect(await page.getByLabel('Email', { exact: true }).inputValue()).toBe(bea.email)
    expect(await page.locator('#app').isHidden()).toBe(true)
    expect(await sessionCookie(context)).toBeUndefined()

    // An unknown email reads exactly the same.
    const said = await message.textContent()
    await message.evaluate('(el) => { el.textContent = "" }')
    await signIn(page, 'nobody-here@council.example', 'not the right password at all')
    await expect.poll(() => message.textContent()).toBe(said)
    await context.close()
  })

  it('signs out: back to the sign-in form, and neither the browser nor the old cookie gets past /api/me', async () => {
    const cal = await person('Cal Jones', 'river otter pebble lantern', [{ role: 'energy', areas: null }])
    const { context, page } = await open()
    await signIn(page, cal.email, cal.password)
    await page.getByRole('heading', { name: 'Buildings', exact: true }).waitFor({ timeout: 5_000 })
    const before = await sessionCookie(context)
    expect(before).toBeDefined()

    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    expect(await page.locator('#sign-in-message').textContent()).toBe('You have signed out.')
    expect(await page.locator('#me').isHidden()).toBe(true)
    expect(await page.locator('#devices tr').count()).toBe(0)

    // With whatever cookies the browser still holds, then with the one it had: the session is over on the server.
    expect((await context.request.get(`${url}/api/me`)).status()).toBe(401)
    expect((await fetch(`${url}/api/me`, { headers: { cookie: `sp_session=${before!.value}` } })).status).toBe(401)
    await context.close()
  })

  // Each signs in to their role's own view: energy to the buildings, housing to the estates, an admin to the alerts.
  it('a one-time password leads to the change-password form (new password twice), then to the dashboard', async () => {
    const dan = await person('Dan Okafor', 'issued once only 4821', [{ role: 'admin', areas: null }], true)
    const { context, page } = await open('/', { width: 360, height: 740 })
    await signIn(page, dan.email, dan.password)
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor({ timeout: 5_000 })
    expect(await page.locator('#app').isHidden()).toBe(true)
    // Just typed at sign-in: not asked for again.
    const view = page.locator('#change-password-view')
    expect(await view.getByLabel('Current password').isHidden()).toBe(true)
    expect(await view.getByText('At least 12 characters; a few unrelated words work well.').isVisible()).toBe(true)
    expect(await view.getByLabel('New password', { exact: true }).getAttribute('autocomplete')).toBe('new-password')
    expect(await scrollsSideways(page)).toBe(false)

    await view.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD)
    await view.getByLabel('New password again').fill(`${NEW_PASSWORD} typo`)
    await page.getByRole('button', { name: 'Change password' }).click()
    await expect.poll(() => page.locator('#change-password-message').textContent()).toMatch(/not the same/)

    await view.getByLabel('New password again').fill(NEW_PASSWORD)
    await page.getByRole('button', { name: 'Change password' }).click()
    await page.getByRole('heading', { name: 'Alerts', exact: true }).waitFor({ timeout: 5_000 })
    expect(await page.locator('#me-name').textContent()).toBe('Dan Okafor')
    expect((await service.registry.people.get(dan.id))?.mustChangePassword).toBe(false)
    // The new session's CSRF token works: signing out (a POST with it) ends the session.
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    expect(await page.locator('#sign-in-message').textContent()).toBe('You have signed out.')

    await signIn(page, dan.email, NEW_PASSWORD)
    await page.getByRole('heading', { name: 'Alerts', exact: true }).waitFor({ timeout: 5_000 })
    await context.close()
  })

  it('an invitation link: the person chooses a password, is signed in, and the link leaves the address bar; it works once', async () => {
    const link = await invitationLink('Eve Adeyemi', [{ role: 'housing', areas: null }])

    const { context, page } = await open(`/?invitation=${link}`)
    await page.getByRole('heading', { name: 'Set up your account' }).waitFor()
    const view = page.locator('#invitation-view')
    await view.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD)
    await view.getByLabel('New password again').fill(NEW_PASSWORD)
    await page.getByRole('button', { name: 'Set password and sign in' }).click()
    await page.getByRole('heading', { name: 'Estates', exact: true }).waitFor({ timeout: 5_000 })
    expect(await page.locator('#me-name').textContent()).toBe('Eve Adeyemi')
    expect(new URL(page.url()).search).toBe('')

    // Used: said as soon as the link is looked up, or at the latest when the password is sent.
    const again = await browser.newPage()
    await again.goto(`${url}/?invitation=${link}`)
    await again.locator('#invitation-view:not([hidden]), #sign-in-message:not(:empty)').first().waitFor()
    if (await again.locator('#invitation-view').isVisible()) {
      await again.locator('#invitation-view').getByLabel('New password', { exact: true }).fill(NEW_PASSWORD)
      await again.locator('#invitation-view').getByLabel('New password again').fill(NEW_PASSWORD)
      await again.getByRole('button', { name: 'Set password and sign in' }).click()
    }
    await expect.poll(() => again.locator('#sign-in-message').textContent()).toMatch(/already been used or has expired/)
    expect(new URL(again.url()).search).toBe('')
    await again.close()
    await context.close()
  })

  it('the API-token option (under "Use an API token") still signs in, over the socket too, keeping the token in this tab only', async () => {
    const { context, page } = await open('/', { width: 360, height: 740 })
    expect(await page.getByLabel('Access token').isHidden()).toBe(true)
    await page.getByText('Use an API token').click()
    expect(await scrollsSideways(page)).toBe(false)
    await page.getByLabel('Access token').fill(token)
    await page.getByRole('button', { name: 'Sign in with the token' }).click()
    await page.getByRole('heading', { name: 'Alerts', exact: true }).waitFor({ timeout: 5_000 })
    expect(await page.locator('#me-roles').textContent()).toBe('admin')
    await expect.poll(() => page.locator('#conn').textContent()).toBe('live')
    expect(await page.evaluate(`sessionStorage.getItem('smartplace.token')`)).toBe(token)
    expect(await sessionCookie(context)).toBeUndefined()
    expect(await scrollsSideways(page)).toBe(false)

    // Every button on the page can be told apart by its name alone.
    const names: string[] = []
    for (const b of await page.getByRole('button').all()) names.push((await b.getAttribute('aria-label')) ?? (await b.textContent()) ?? '')
    expect(names.length).toBeGreaterThan(0)
    expect(new Set(names).size).toBe(names.length)

    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    expect(await page.evaluate('sessionStorage.length')).toBe(0)
    await context.close()
  })

  it('single sign-on: the button goes to the council identity provider and comes back signed in with the mapped role', async () => {
    const { context, page } = await open()
    const sso = page.getByRole('link', { name: 'Sign in with Council sign-in' })
    expect(await sso.getAttribute('href')).toBe('/api/auth/oidc/start')
    await sso.click()
    // The provider's own login and consent pages.
    for (let step = 0; step < 5 && new URL(page.url()).origin === provider.issuer; step++) {
      await page.locator('button[type="submit"]').waitFor()
      if (await page.locator('input[name="login"]').count()) {
        await page.locator('input[name="login"]').fill('gail')
        await page.locator('input[name="password"]').fill('anything')
      }
      await Promise.all([page.waitForNavigation(), page.locator('button[type="submit"]').click()])
    }
    await page.getByRole('heading', { name: "Today's round" }).waitFor({ timeout: 10_000 })
    expect(new URL(page.url()).origin).toBe(url)
    expect(await page.locator('#me-name').textContent()).toBe('Gail Porter')
    expect(await page.locator('#me-roles').textContent()).toBe('crew in north-ward')
    expect((await sessionCookie(context))?.httpOnly).toBe(true)
    await context.close()
  })

  it('the sign-in page and its sub-pages: no axe-core violations at 360 and 1366 px, nothing sideways at 320 px, all by keyboard', async () => {
    // The sign-in page, then with "Use an API token" opened by the keyboard alone.
    const { context, page } = await open('/')
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    expect(await checkAtSizes(page, 'sign-in')).toEqual([])
    const audit = await keyboardAudit(page)
    expect(audit.problems).toEqual([])
    expect(audit.reached).toEqual(expect.arrayContaining(['input "Email"', 'summary "Use an API token"']))
    await page.locator('#sign-in-h').focus()
    for (let i = 0; i < 20 && !(await page.evaluate(`document.activeElement.matches('#token-option summary')`)); i++)
      await page.keyboard.press('Tab')
    await page.keyboard.press('Enter')
    expect(await page.getByLabel('Access token').isVisible()).toBe(true)
    expect(await checkAtSizes(page, 'sign-in-token')).toEqual([])
    const withToken = await keyboardAudit(page)
    expect(withToken.problems).toEqual([])
    expect(withToken.reached).toEqual(expect.arrayContaining(['input "Access token"', 'button "Sign in with the token"']))
    await context.close()

    // "Choose a new password", after a one-time password.
    const gus = await person('Gus Patel', 'issued once only 7730', [{ role: 'viewer', areas: null }], true)
    const change = await open('/')
    await signIn(change.page, gus.email, gus.password)
    await change.page.getByRole('heading', { name: 'Choose a new password' }).waitFor({ timeout: 5_000 })
    expect(await checkAtSizes(change.page, 'sign-in-change-password')).toEqual([])
    expect((await keyboardAudit(change.page)).problems).toEqual([])
    await change.context.close()

    // "Set up your account", from an invitation link.
    const link = await invitationLink('Hal Evans', [{ role: 'viewer', areas: null }])
    const invited = await open(`/?invitation=${link}`)
    await invited.page.getByRole('heading', { name: 'Set up your account' }).waitFor()
    expect(await checkAtSizes(invited.page, 'sign-in-invitation')).toEqual([])
    expect((await keyboardAudit(invited.page)).problems).toEqual([])
    await invited.context.close()
  })

  // Last: the brake holds this address (where the browser is too) for a while.
  it('after too many wrong passwords, the form says in plain words when to try again', async () => {
    const fay = await person('Fay Smith', 'marble harbour crocus tandem', [{ role: 'viewer', areas: null }])
    const { context, page } = await open()
    await page.getByLabel('Email', { exact: true }).fill(fay.email)
    let status = 0
    for (let i = 0; i < 40 && status !== 429; i++) {
      const res = await fetch(`${url}/api/auth/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: fay.email, password: `wrong password number ${i}` }),
      })
      status = res.status
    }
    expect(status).toBe(429)
    await page.getByLabel('Password', { exact: true }).fill(fay.password)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await expect
      .poll(() => page.locator('#sign-in-message').textContent())
      .toMatch(/^Too many failed sign-ins\. Try again in \d+ (seconds?|minutes?|hours?)\.$/)
    expect(await sessionCookie(context)).toBeUndefined()
    await context.close()
  })
})
