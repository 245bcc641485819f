import { parseOptions } from '@node-rs/argon2'
import { describe, expect, it } from 'vitest'
import { checkPassword, DUMMY_HASH, hashPassword, verifyPassword } from '../../dashboards/access/passwords.ts'
import { ACCOUNT_RULE, createSignInBrake } from '../../dashboards/access/sign-in-brake.ts'
import type { AuthGuard } from '../../dashboards/auth-guard.ts'

describe('the password policy', () => {
  const email = 'jane.smithson@council.example'
  const reason = (password: string) => {
    const v = checkPassword(password, email)
    return v.ok ? 'ok' : v.reason
  }

  it('refuses fewer than 12 characters, counting characters, not UTF-16 units', () => {
    expect(reason('elevenchars')).toBe('too-short')
    // 11 emoji are 22 UTF-16 units but 11 characters.
    expect(reason('🐝🐞🦋🐛🐜🦗🕷🦂🦟🪰🪲')).toBe('too-short')
    expect(reason('twelve chars')).toBe('ok')
  })

  it('refuses more than 256 characters', () => {
    expect(reason('abcdefghij'.repeat(26))).toBe('too-long')
  })

  it('refuses common passwords whatever their case', () => {
    expect(reason('qwerty123456')).toBe('common')
    expect(reason('QWERTY123456')).toBe('common')
    expect(reason('1qaz2wsx3edc')).toBe('common')
  })

  it('refuses the email and its local part', () => {
    expect(reason(email)).toBe('email')
    expect(reason('Jane.Smithson@Council.Example')).toBe('email')
    expect(reason('jane.smithson')).toBe('email')
    expect(checkPassword('jane.smithson', null).ok).toBe(true)
  })

  it('refuses one or two characters repeated', () => {
    expect(reason('aaaaaaaaaaaaaaaa')).toBe('repetitive')
    expect(reason('abababababababab')).toBe('repetitive')
    expect(reason('abcdabcdabcdabcd')).toBe('repetitive')
    expect(reason('abcdeabcdeabcde')).toBe('ok')
  })

  it('accepts a long passphrase of ordinary words and says why it refuses others', () => {
    expect(checkPassword('correct horse battery staple on the allotment', email)).toEqual({ ok: true })
    const v = checkPassword('short', email)
    expect(v.ok).toBe(false)
    expect(!v.ok && v.message).toMatch(/at least 12 characters/)
  })
})

describe('password hashing', () => {
  it('stores argon2id at OWASP parameters (19 MiB, 2 passes, 1 lane) with a fresh salt each time', async () => {
    const a = await hashPassword('correct horse battery staple')
    const b = await hashPassword('correct horse battery staple')
    expect(a.startsWith('$argon2id$v=19$m=19456,t=2,p=1$')).toBe(true)
    expect(a).not.toBe(b)
  })

  it('verifies the right password only, and the same text however its accents were typed', async () => {
    const h = await hashPassword('café au lait du matin')
    expect(await verifyPassword(h, 'café au lait du matin')).toBe(true)
    expect(await verifyPassword(h, 'cafe\u0301 au lait du matin')).toBe(true)
    expect(await verifyPassword(h, 'cafe au lait du matin')).toBe(false)
  })

  it('answers false without a hash or with a damaged one, and does the same work without a hash', async () => {
    expect(parseOptions(DUMMY_HASH)).toEqual(parseOptions(await hashPassword('anything long enough')))
    expect(await verifyPassword(null, 'anything long enough')).toBe(false)
    expect(await verifyPassword('$argon2id$broken', 'anything long enough')).toBe(false)
  })
})

describe('the sign-in brake', () => {
  const openGuard = (): AuthGuard & { failures: number } => {
    const g = {
      failures: 0,
      check: () => null,
      succeeded: () => {},
      failed: () => {
        g.failures++
      },
    }
    return g
  }

  it('lets 5 wrong passwords through per account, then blocks that account (not another) for doubling times', () => {
    let t = 0
    const guard = openGuard()
    const brake = createSignInBrake({ guard, now: () => t })
    for (let i = 0; i < ACCOUNT_RULE.freeFailures; i++) {
      expect(brake.check('192.0.2.1', 'a@council.example')).toBeNull()
      brake.failed('192.0.2.1', 'a@council.example')
    }
    expect(brake.check('192.0.2.1', 'a@council.example')).toBeNull()
    brake.failed('192.0.2.1', 'A@Council.Example ')
    expect(brake.check('192.0.2.9', 'a@council.example')).toEqual({ scope: 'identity', retryAfterS: 1 })
    expect(brake.check('192.0.2.1', 'b@council.example')).toBeNull()
    t += 1_000
    expect(brake.check('192.0.2.1', 'a@council.example')).toBeNull()
    brake.failed('192.0.2.1', 'a@council.example')
    expect(brake.check('192.0.2.1', 'a@council.example')).toEqual({ scope: 'identity', retryAfterS: 2 })
    expect(guard.failures).toBe(7)
  })

  it('refuses first by address when the address guard says so', () => {
    const guard = { ...openGuard(), check: () => ({ scope: 'address' as const, retryAfterS: 7 }) }
    expect(createSignInBrake({ guard }).check('192.0.2.1', 'a@council.example')).toEqual({ scope: 'address', retryAfterS: 7 })
  })

  it('does not let guesses from elsewhere lock a person out at the address where they signed in lately', () => {
    let t = 0
    const brake = createSignInBrake({ guard: openGuard(), now: () => t })
    brake.succeeded('192.0.2.1', 'a@council.example')
    for (let i = 0; i < 12; i++) brake.failed('198.51.100.7', 'a@council.example')
    expect(brake.check('198.51.100.7', 'a@council.example')).toMatchObject({ scope: 'identity' })
    expect(brake.check('192.0.2.1', 'A@council.example')).toBeNull()
    // A day later the address is a stranger again.
    t += 24 * 3_600_000
    for (let i = 0; i <= ACCOUNT_RULE.freeFailures; i++) brake.failed('198.51.100.7', 'a@council.example')
    expect(brake.check('192.0.2.1', 'a@council.example')).toMatchObject({ scope: 'identity' })
  })

  it('names the account to the address guard, so guesses at one account do not block sign-in for everyone', () => {
    const seen: string[] = []
    const guard = {
      check: (_a: string, id: string) => {
        seen.push(id)
        return null
      },
      succeeded: () => {},
      failed: () => {},
    }
    const brake = createSignInBrake({ guard })
    brake.check('192.0.2.1', 'A@Council.Example')
    brake.check('192.0.2.1', 'b@council.example')
    expect(seen).toEqual(['sign-in:a@council.example', 'sign-in:b@council.example'])
  })
})
