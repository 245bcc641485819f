import type { Me } from '#devices'
import { type Credentials, request } from './api.ts'

/** How people may sign in here: always email and password; single sign-on when the council set it up. */
export interface Providers {
  password: boolean
  sso: { name: string; start: string } | null
}

/** What an invitation link says before it is used (the server may not offer this; then it is unknown). */
export interface InvitationInfo {
  name?: string
  email?: string
}

/** The sign-in calls of /api/auth, for the cookie session (and /api/me for either kind of caller). */
export const authApi = {
  providers: () => request<Providers>('/api/auth/providers'),
  me: (credentials: Credentials | null = null) => request<Me>('/api/me', { credentials }),
  signIn: (email: string, password: string) => request<Me>('/api/auth/sign-in', { method: 'POST', body: { email, password } }),
  signOut: (csrf: string) => request<void>('/api/auth/sign-out', { method: 'POST', credentials: { kind: 'session', csrf } }),
  changePassword: (csrf: string, current: string, next: string) =>
    request<Me>('/api/auth/password', { method: 'POST', body: { current, next }, credentials: { kind: 'session', csrf } }),
  invitation: (token: string) => request<InvitationInfo>(`/api/auth/invitations/${encodeURIComponent(token)}`),
  acceptInvitation: (token: string, password: string) =>
    request<Me>('/api/auth/invitations/accept', { method: 'POST', body: { token, password } }),
}
