import { addressKey } from './address-key.ts'

export interface AuthBrakeConfig {
  /** Wrong secrets answered at full speed, per address and per claimed identity, before the brake starts. */
  freeFailures: number
  /** The longest delay; 0 turns the brake off. An address whose turn is further away than this is refused unchecked. */
  maxDelayMs: number
  /** Failures are forgotten after this long without another one. */
  forgetMs: number
}

export interface AuthBrake {
  /** Before a secret is checked: milliseconds to wait first, or -1 to refuse without checking it. */
  beforeCheck(address: string, identity: string): number
  /** After a wrong secret: milliseconds to hold the refusal before it is sent. */
  failed(address: string, identity: string): number
  succeeded(address: string, identity: string): void
}

interface Failures {
  fails: number
  last: number
  /** The earliest time the next secret from this address is checked. */
  next: number
}

const FIRST_DELAY_MS = 250
/** Bounds the memory an attacker can make the brake use by spraying addresses or names. */
const MAX_KEYS = 50_000
/** Device ids are short; a long claimed name is braked by its beginning. */
const MAX_IDENTITY = 128

/**
 * Slows guessing of device secrets. Two brakes, so that a device with the right
 * secret on another address is never slowed by someone else's guessing:
 *
 * - Per address: once an address has had `freeFailures` wrong secrets, its CONNECTs
 *   are checked one at a time, spaced by a delay that doubles with each further
 *   failure up to `maxDelayMs`; one whose turn would come later than that is refused
 *   (CONNACK "server unavailable") without checking. Parallel connections from that
 *   address queue for the same turns. A device that has already connected from the
 *   address with its right secret is let through: behind a gateway's NAT, other
 *   devices' failures do not lock it out.
 * - Per claimed identity (the user name): once a name has had `freeFailures` wrong
 *   secrets from anywhere, each further refusal for it is held back by the same
 *   growing delay. Only refusals are held, never an acceptance.
 */
export function createAuthBrake(config: AuthBrakeConfig, now: () => number = Date.now): AuthBrake {
  const { freeFailures, maxDelayMs, forgetMs } = config
  const byAddress = new Map<string, Failures>()
  const byIdentity = new Map<string, Failures>()
  const knownGood = new Set<string>()

  const spacing = (fails: number) => (fails < freeFailures ? 0 : Math.min(maxDelayMs, FIRST_DELAY_MS * 2 ** (fails - freeFailures)))

  const current = (map: Map<string, Failures>, key: string, t: number) => {
    const r = map.get(key)
    if (r && t - r.last > forgetMs) {
      map.delete(key)
      return undefined
    }
    return r
  }

  const fail = (map: Map<string, Failures>, key: string, t: number) => {
    const r = current(map, key, t) ?? { fails: 0, last: t, next: 0 }
    r.fails++
    r.last = t
    r.next = Math.max(r.next, t + spacing(r.fails))
    // Re-inserted so the map's order is least recently failed first, and the oldest go when it is full.
    map.delete(key)
    map.set(key, r)
    if (map.size > MAX_KEYS) map.delete(map.keys().next().value!)
    return r
  }

  const pair = (address: string, identity: string) => `${addressKey(address)} ${identity.slice(0, MAX_IDENTITY)}`

  if (maxDelayMs <= 0) return { beforeCheck: () => 0, failed: () => 0, succeeded: () => {} }
  return {
    beforeCheck(address, identity) {
      const t = now()
      const r = current(byAddress, addressKey(address), t)
      if (!r || r.fails < freeFailures || knownGood.has(pair(address, identity))) return 0
      const turn = Math.max(t, r.next)
      if (turn - t > maxDelayMs) return -1
      r.next = turn + spacing(r.fails)
      return turn - t
    },
    failed(address, identity) {
      const t = now()
      fail(byAddress, addressKey(address), t)
      // The first `freeFailures` refusals go at once; the one after is the first held.
      return spacing(fail(byIdentity, identity.slice(0, MAX_IDENTITY), t).fails - 1)
    },
    succeeded(address, identity) {
      const key = pair(address, identity)
      if (knownGood.has(key)) return
      knownGood.add(key)
      if (knownGood.size > MAX_KEYS) knownGood.delete(knownGood.values().next().value!)
    },
  }
}
