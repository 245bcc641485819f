import type { Grant } from '#devices'

/** Single sign-on through the council's OpenID Connect provider (OIDC_* variables). */
export interface OidcOptions {
  issuer: string
  clientId: string
  clientSecret: string
  /** The ID token or userinfo claim that lists the person's groups (OIDC_GROUPS_CLAIM, default `groups`). */
  groupsClaim: string
  /** Group name to the grants it gives (OIDC_GROUP_MAP). */
  groupMap: Record<string, Grant[]>
  /** Lets the tests' provider on http://127.0.0.1 be used; never set for a real issuer. */
  allowInsecureIssuer: boolean
}
