import { type Algorithm, hash, verify } from '@node-rs/argon2'
import { dictionary } from '@zxcvbn-ts/language-common'
import { PASSWORD_MAX, PASSWORD_MIN } from '#devices'

/**
 * argon2id at OWASP's first choice (19 MiB, 2 passes, 1 lane): the library's defaults, spelt
 * out so an upgrade of the library cannot weaken them unnoticed.
 */
// The library's enum is an ambient const enum, which isolated modules cannot read: its value, typed.
const ARGON2ID = 2 as Algorithm.Argon2id
const OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 }

/**
 * Verified when there is no real hash (unknown email, an account without a password), so that
 * answering takes as long as for a real account and timing does not tell whether an email exists.
 */
export const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$ZgV3tU6xY6gO4YVnTMQVEQ$epxWheF4C+3ERMpy+9vwin7s1RTiQUKm3iaqR/QyMqM'

// One code point for one character however it was typed (NIST SP 800-63B §5.1.1.2).
const normal = (password: string) => password.normalize('NFKC')

export function hashPassword(password: string): Promise<string> {
  return hash(normal(password), OPTIONS)
}

/** False for a wrong password, a missing hash (after the same work as a real check) or a damaged one. */
export async function verifyPassword(stored: string | null, password: string): Promise<boolean> {
  try {
    const ok = await verify(stored ?? DUMMY_HASH, normal(password))
    return ok && stored !== null
  } catch {
    return false
  }
}

export type PasswordVerdict =
  | { ok: true }
  | { ok: false; reason: 'too-short' | 'too-long' | 'common' | 'email' | 'repetitive'; message: string }

const DISTINCT_MIN = 5
let common: Set<string> | undefined
// Shorter entries are refused by length already; the rest (a few hundred) are all the set needs.
const commonPasswords = () => {
  common ??= new Set(dictionary['passwords-common'].filter((p) => p.length >= PASSWORD_MIN).map((p) => p.toLowerCase()))
  return common
}

/**
 * Length over complexity (NCSC, NIST SP 800-63B): 12 to 256 characters, not a known common
 * password, not the person's email or its local part, not one or two characters repeated.
 * No rules about digits or symbols: they make passwords shorter and easier to guess.
 */
export function checkPassword(password: string, email: string | null): PasswordVerdict {
  const p = normal(password)
  const length = [...p].length
  if (length < PASSWORD_MIN) return { ok: false, reason: 'too-short', message: `use at least ${PASSWORD_MIN} characters` }
  if (length > PASSWORD_MAX) return { ok: false, reason: 'too-long', message: `use at most ${PASSWORD_MAX} characters` }
  const lower = p.toLowerCase()
  if (commonPasswords().has(lower)) return { ok: false, reason: 'common', message: 'this password is on a list of common passwords' }
  if (email) {
    const e = email.trim().toLowerCase()
    const at = e.lastIndexOf('@')
    if (lower === e || (at > 0 && lower === e.slice(0, at))) {
      return { ok: false, reason: 'email', message: 'the password must not be your email address' }
    }
  }
  if (new Set(p).size < DISTINCT_MIN) {
    return { ok: false, reason: 'repetitive', message: `use at least ${DISTINCT_MIN} different characters` }
  }
  return { ok: true }
}
