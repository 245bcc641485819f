import { type BrakeRule, createBrake } from '../auth-brake.ts'
import type { AuthGuard, Refusal } from '../auth-guard.ts'
import { addressKey } from '../client-address.ts'
import { recentlySeen } from '../recently-seen.ts'

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

// The address guard's identity is the account too: a constant one would let a few addresses' failures
// block sign-in for everyone arriving from a new address.
const identity = (email: string) => `sign-in:${email}`
// An address where this account signed in lately is not held back by others' guesses at it.
const KNOWN_FOR_MS = 24 * 3_600_000
const KNOWN_MAX = 10_000

export interface SignInBrake {
  /** Checked before the password: a blocked attempt is refused unchecked, right or wrong. */
  check(address: string, email: string): Refusal | null
  failed(address: string, email: string): void
  succeeded(address: string, email: string): void
}

/**
 * Wrong passwords braked per account and per client address. The account key is the email as
 * typed (normalised), known or not, so an unknown email is braked exactly like a real one and
 * the answers cannot tell them apart.
 */
export function createSignInBrake(deps: { guard: AuthGuard; rule?: BrakeRule; now?: () => number }): SignInBrake {
  const accounts = createBrake(deps.rule ?? ACCOUNT_RULE, deps.now)
  const now = deps.now ?? Date.now
  const key = (email: string) => email.trim().toLowerCase()
  // Without this, anyone could keep a colleague locked out with a wrong password every few minutes.
  const known = recentlySeen(KNOWN_FOR_MS, KNOWN_MAX, now)
  const pair = (address: string, email: string) => `${addressKey(address)} ${key(email)}`
  const isKnown = (address: string, email: string) => known.has(pair(address, email))
  return {
    check(address, email) {
      const byAddress = deps.guard.check(address, identity(key(email)), 'http')
      if (byAddress) return byAddress
      if (isKnown(address, email)) return null
      const ms = accounts.blockedFor(key(email))
      return ms > 0 ? { scope: 'identity', retryAfterS: Math.max(1, Math.ceil(ms / 1000)) } : null
    },
    failed(address, email) {
      deps.guard.failed(address, identity(key(email)), 'http')
      if (!isKnown(address, email)) accounts.failed(key(email))
    },
    succeeded(address, email) {
      deps.guard.succeeded(address)
      known.add(pair(address, email))
    },
  }
}
