import { type BrakeRule, createBrake } from '../auth-brake.ts'
import type { AuthGuard, Refusal } from '../auth-guard.ts'

/**
 * 5 free wrong passwords per account, then blocks of 1 s, 2 s, 4 s … up to 15 minutes: a
 * person who mistypes is not held up, a guesser gets about 15 tries in the first hour.
 */
export const ACCOUNT_RULE: BrakeRule = {
  freeFailures: 5,
  firstBlockMs: 1_000,
  maxBlockMs: 15 * 60_000,
  forgetMs: 60 * 60_000,
  maxKeys: 10_000,
}

// One identity for the address guard: what it brakes is guessing from an address, whichever accounts.
const IDENTITY = 'sign-in'

export interface SignInBrake {
  /** Checked before the password: a blocked attempt is refused unchecked, right or wrong. */
  check(address: string, email: string): Refusal | null
  failed(address: string, email: string): void
  succeeded(address: string): void
}

/**
 * Wrong passwords braked per account and per client address. The account key is the email as
 * typed (normalised), known or not, so an unknown email is braked exactly like a real one and
 * the answers cannot tell them apart.
 */
export function createSignInBrake(deps: { guard: AuthGuard; rule?: BrakeRule; now?: () => number }): SignInBrake {
  const accounts = createBrake(deps.rule ?? ACCOUNT_RULE, deps.now)
  const key = (email: string) => email.trim().toLowerCase()
  return {
    check(address, email) {
      const byAddress = deps.guard.check(address, IDENTITY, 'http')
      if (byAddress) return byAddress
      const ms = accounts.blockedFor(key(email))
      return ms > 0 ? { scope: 'identity', retryAfterS: Math.max(1, Math.ceil(ms / 1000)) } : null
    },
    failed(address, email) {
      deps.guard.failed(address, IDENTITY, 'http')
      accounts.failed(key(email))
    },
    succeeded(address) {
      deps.guard.succeeded(address)
    },
  }
}
