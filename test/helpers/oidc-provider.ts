import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
// @ts-expect-error oidc-provider ships no type declarations; the little used here is typed below.
import ProviderModule from 'oidc-provider'
import { noteSecret } from './log-capture.ts'

/** What the test provider says about one of its accounts. */
export interface AccountClaims {
  email: string
  email_verified: boolean
  name: string
  groups: string[]
}

interface Provider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void
}
const Provider = ProviderModule as new (issuer: string, config: Record<string, unknown>) => Provider

export interface TestProvider {
  issuer: string
  clientId: string
  clientSecret: string
  /**
   * Serves a provider with one client whose only redirect URI is the relying party's callback.
   * Called again, it replaces the provider (accounts, claim placement) at the same issuer.
   */
  configure(opts: { redirectUri: string; accounts: Record<string, AccountClaims>; claimsInIdToken?: boolean }): void
  /** Requests to the userinfo endpoint so far. */
  readonly userinfoCalls: number
  close(): Promise<void>
}

/**
 * A real OpenID provider (oidc-provider, in-process) on 127.0.0.1. It listens first, so the
 * issuer URL is known before the service under test starts; it is configured once the
 * service's URL (its callback) is known. Until then it answers 503.
 *
 * The service asks for scope `openid email profile` only, as it does of a council's provider.
 * Here `groups` is released with the `profile` scope (the claims table below). By default
 * (conformIdTokenClaims) an ID token issued with an access token carries only sub and the
 * rest is read from userinfo; claimsInIdToken puts every claim in the ID token instead, as
 * Entra ID and Keycloak do with a groups mapper.
 */
export async function listenProvider(): Promise<TestProvider> {
  const clientId = 'smartplace-test'
  const clientSecret = randomBytes(24).toString('base64url')
  // 32 characters: too short for the log check's shape of a random secret, so it is noted by name.
  noteSecret(clientSecret)
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | null = null
  let userinfoCalls = 0
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/me')) userinfoCalls++
    if (handler) return handler(req, res)
    res.statusCode = 503
    res.end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    issuer,
    clientId,
    clientSecret,
    get userinfoCalls() {
      return userinfoCalls
    },
    configure({ redirectUri, accounts, claimsInIdToken = false }) {
      const cookieKey = randomBytes(32).toString('base64url')
      noteSecret(cookieKey)
      const provider = new Provider(issuer, {
        // token_endpoint_auth_method is left at its default, client_secret_basic.
        clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri], response_types: ['code'] }],
        pkce: { required: () => true },
        claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'groups'] },
        conformIdTokenClaims: !claimsInIdToken,
        cookies: { keys: [cookieKey] },
        findAccount: (_ctx: unknown, id: string) => {
          const account = accounts[id]
          return account ? { accountId: id, claims: () => ({ sub: id, ...account }) } : undefined
        },
      })
      handler = provider.callback()
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/**
 * A browser reduced to what a sign-in needs: fetch without following redirects, and a cookie
 * jar per origin that honours Path and deletion (Max-Age=0 or an Expires in the past).
 */
export function createBrowser() {
  const jars = new Map<string, Map<string, { value: string; path: string }>>()
  const store = (url: URL, res: Response) => {
    const jar = jars.get(url.origin) ?? new Map()
    jars.set(url.origin, jar)
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim())
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq)
      const value = pair!.slice(eq + 1)
      let path = '/'
      let gone = value === ''
      for (const a of attrs) {
        const [k, v = ''] = a.split('=')
        const key = k!.toLowerCase()
        if (key === 'path') path = v
        if (key === 'max-age' && Number(v) <= 0) gone = true
        if (key === 'expires' && Date.parse(v) <= Date.now()) gone = true
      }
      if (gone) jar.delete(name)
      else jar.set(name, { value, path })
    }
  }
  const cookieHeader = (url: URL) =>
    [...(jars.get(url.origin) ?? [])]
      .filter(([, c]) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ')

  const request = async (href: string, init: RequestInit = {}) => {
    const url = new URL(href)
    const headers = new Headers(init.headers)
    const cookie = cookieHeader(url)
    if (cookie) headers.set('cookie', cookie)
    const res = await fetch(url, { ...init, headers, redirect: 'manual' })
    store(url, res)
    return res
  }
  return {
    get: (href: string) => request(href),
    postForm: (href: string, form: Record<string, string>) =>
      request(href, { method: 'POST', body: new URLSearchParams(form), headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    cookie: (origin: string, name: string) => jars.get(origin)?.get(name)?.value,
    setCookie: (origin: string, name: string, value: string, path = '/') => {
      const jar = jars.get(origin) ?? new Map()
      jars.set(origin, jar)
      jar.set(name, { value, path })
    },
  }
}
export type Browser = ReturnType<typeof createBrowser>

/**
 * Drives a sign-in from the service's start URL through the provider's development login and
 * consent pages, and returns the first answer from outside the provider: the service's
 * callback (with the sp_oidc cookie the browser sent it), or (a refusal at start) the start
 * answer itself.
 */
export async function signInThroughProvider(browser: Browser, startUrl: string, issuer: string, login: string) {
  let res = await browser.get(startUrl)
  let at = new URL(startUrl)
  for (let step = 0; step < 20; step++) {
    if (res.status >= 300 && res.status < 400) {
      const next = new URL(res.headers.get('location')!, at)
      if (next.origin !== issuer) {
        const oidcCookie = browser.cookie(next.origin, 'sp_oidc') ?? null
        return { res: await browser.get(next.href), url: next, callbackUrl: next, oidcCookie }
      }
      at = next
      res = await browser.get(next.href)
      continue
    }
    if (at.origin !== issuer) return { res, url: at, callbackUrl: null, oidcCookie: null }
    if (res.status !== 200 || !at.pathname.startsWith('/interaction/')) {
      throw new Error(`provider answered ${res.status} at ${at.pathname}: ${(await res.text()).slice(0, 300)}`)
    }
    const page = await res.text()
    const form: Record<string, string> = page.includes('name="prompt" value="login"')
      ? { prompt: 'login', login, password: 'x' }
      : { prompt: 'consent' }
    res = await browser.postForm(at.href, form)
  }
  throw new Error('sign-in did not come back to the service within 20 steps')
}
