import * as client from 'openid-client'
import type { OidcOptions } from './oidc.ts'
import type { PendingSignIn } from './oidc-pending.ts'

/** What the identity provider says about the person, once the code has been exchanged and checked. */
export interface SsoClaims {
  /** The issuer as the ID token names it: with sub, the person's lasting key. */
  issuer: string
  sub: string
  email: string | null
  /** False only when the provider says so; an absent claim is unknown (null). */
  emailVerified: boolean | null
  name: string | null
  /** The raw groups claim; oidc-grants.ts reads it. */
  groups: unknown
}

/** A failed sign-in step, with the status and the plain reason the person is shown. */
export class SsoError extends Error {
  readonly status: 400 | 503
  /** For the log and the audit: a short code, never a token, code or address. */
  readonly reason: string
  constructor(status: 400 | 503, message: string, reason: string) {
    super(message)
    this.status = status
    this.reason = reason
  }
}

export interface OidcClient {
  /** A new PKCE verifier, state and nonce, and the provider URL to send the browser to. */
  begin(redirectUri: string): Promise<{ url: URL; pending: PendingSignIn }>
  /** Exchanges the code in the callback's query for tokens, checks them against the pending sign-in, and reads the claims. */
  finish(pending: PendingSignIn, callbackQuery: string): Promise<SsoClaims>
}

const SCOPE = 'openid email profile'
const TIMEOUT_S = 10

/**
 * The relying party. Discovery happens on first use, not at start: the service comes up
 * while the provider is down, and a failed discovery is tried again by the next sign-in.
 */
export function createOidcClient(opts: OidcOptions): OidcClient {
  let discovered: Promise<client.Configuration> | null = null
  const config = () => {
    discovered ??= client
      .discovery(
        new URL(opts.issuer),
        opts.clientId,
        { client_secret: opts.clientSecret },
        // Basic is the default method of OAuth 2.0 and OIDC client registration: every provider takes it.
        client.ClientSecretBasic(opts.clientSecret),
        { timeout: TIMEOUT_S, execute: opts.allowInsecureIssuer ? [client.allowInsecureRequests] : [] },
      )
      .then((c) => {
        c.timeout = TIMEOUT_S
        return c
      })
      .catch((err: unknown) => {
        discovered = null
        throw new SsoError(503, 'the council identity provider could not be reached; try again in a minute', `discovery: ${kindOf(err)}`)
      })
    return discovered
  }

  return {
    async begin(redirectUri) {
      const c = await config()
      const pending: PendingSignIn = {
        codeVerifier: client.randomPKCECodeVerifier(),
        state: client.randomState(),
        nonce: client.randomNonce(),
        redirectUri,
      }
      const url = client.buildAuthorizationUrl(c, {
        redirect_uri: redirectUri,
        scope: SCOPE,
        state: pending.state,
        nonce: pending.nonce,
        code_challenge: await client.calculatePKCECodeChallenge(pending.codeVerifier),
        code_challenge_method: 'S256',
      })
      return { url, pending }
    },

    async finish(pending, callbackQuery) {
      const c = await config()
      const current = new URL(pending.redirectUri)
      current.search = callbackQuery
      try {
        const tokens = await client.authorizationCodeGrant(c, current, {
          pkceCodeVerifier: pending.codeVerifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
        })
        const id = tokens.claims()!
        let info: client.UserInfoResponse | null = null
        // Providers that follow the spec to the letter put only sub in an ID token issued with an
        // access token and answer the rest at userinfo; others put everything in the ID token.
        const missing = id.email === undefined || id[opts.groupsClaim] === undefined || id.name === undefined
        if (missing && c.serverMetadata().userinfo_endpoint) info = await client.fetchUserInfo(c, tokens.access_token, id.sub)
        const claim = (k: string) => (id[k] !== undefined ? id[k] : info?.[k])
        const email = claim('email')
        const verified = claim('email_verified')
        const name = claim('name')
        return {
          issuer: id.iss,
          sub: id.sub,
          email: typeof email === 'string' ? email : null,
          emailVerified: typeof verified === 'boolean' ? verified : null,
          name: typeof name === 'string' ? name : null,
          groups: claim(opts.groupsClaim),
        }
      } catch (err) {
        throw asSsoError(err)
      }
    },
  }
}

function kindOf(err: unknown): string {
  const e = err as { name?: unknown; code?: unknown; error?: unknown }
  return [e.name, e.code, e.error].filter((v) => typeof v === 'string').join(' ') || 'unknown'
}

/** Keeps what is safe to show and log (the error's kind, the provider's error code); never the cause, which can carry claims. */
function asSsoError(err: unknown): SsoError {
  if (err instanceof SsoError) return err
  if (err instanceof client.AuthorizationResponseError) {
    return new SsoError(400, `the council identity provider did not sign you in (${safeCode(err.error)}); start again`, kindOf(err))
  }
  if (err instanceof client.ResponseBodyError) {
    return new SsoError(400, `the council identity provider refused the sign-in (${safeCode(err.error)}); start again`, kindOf(err))
  }
  const code = (err as { code?: unknown }).code
  const name = (err as { name?: unknown }).name
  if (
    err instanceof TypeError ||
    name === 'TimeoutError' ||
    name === 'AbortError' ||
    code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' ||
    code === 'OAUTH_RESPONSE_IS_NOT_JSON'
  ) {
    return new SsoError(503, 'the council identity provider did not answer properly; try again in a minute', kindOf(err))
  }
  return new SsoError(400, "the identity provider's answer did not match this sign-in; start again", kindOf(err))
}

// The provider's error code goes into a message: keep it to the RFC 6749 character set, and short.
const safeCode = (s: string) => (/^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(s) ? s : 'error')
