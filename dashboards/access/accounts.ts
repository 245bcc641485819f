import type { Logger } from 'pino'
import type { Registry } from '../../store/registry.ts'
import type { AuthGuard } from '../auth-guard.ts'
import type { Authenticator } from './authenticate.ts'
import type { Sessions } from './sessions.ts'

/** What the routes that sign people in and manage them share. */
export interface AccountDeps {
  registry: Registry
  sessions: Sessions
  auth: Authenticator
  guard: AuthGuard
  /** HTTP_PUBLIC_URL; null: links and redirects are built from the request. */
  publicUrl: string | null
  log: Logger
}
