import { describe, expect, it } from 'vitest'
import { addressKey } from '../../broker/address-key.ts'
import { createAuthBrake } from '../../broker/auth-brake.ts'

const clock = () => {
  let t = 1_000_000
  return { now: () => t, advance: (ms: number) => (t += ms) }
}

describe('auth brake', () => {
  it('answers the first failures at once, then spaces an address’s checks by a doubling delay', () => {
    const c = clock()
    const b = createAuthBrake({ freeFailures: 3, maxDelayMs: 2_000, forgetMs: 60_000 }, c.now)
    for (let i = 0; i < 3; i++) {
      expect(b.beforeCheck('10.0.0.1', 'dev')).toBe(0)
      b.failed('10.0.0.1', 'dev')
    }
    // Three parallel attempts now: 250 ms apart, the next doubling; one whose turn is over 2 s away is refused.
    expect(b.beforeCheck('10.0.0.1', 'dev')).toBe(250)
    expect(b.beforeCheck('10.0.0.1', 'dev')).toBe(500)
    expect(b.beforeCheck('10.0.0.1', 'dev')).toBe(750)
    expect(b.beforeCheck('10.0.0.1', 'dev')).toBe(1000)
    expect(b.beforeCheck('10.0.0.1', 'dev')).toBe(1250)
    expect(b.beforeCheck('10.0.0.1', 'dev')).toBe(1500)
    expect(b.beforeCheck('10.0.0.1', 'dev')).toBe(1750)
    expect(b.beforeCheck('10.0.0.1', 'dev')).toBe(2000)
    expect(b.beforeCheck('10.0.0.1', 'dev')).toBe(-1)
    // Another address is untouched.
    expect(b.beforeCheck('10.0.0.2', 'dev')).toBe(0)
  })

  it('grows the spacing with each failure up to the maximum, and forgets after the quiet time', () => {
    const c = clock()
    const b = createAuthBrake({ freeFailures: 1, maxDelayMs: 1_000, forgetMs: 60_000 }, c.now)
    const waits: number[] = []
    for (let i = 0; i < 6; i++) {
      const w = b.beforeCheck('10.0.0.1', 'x')
      waits.push(w)
      c.advance(w)
      b.failed('10.0.0.1', 'x')
    }
    expect(waits).toEqual([0, 250, 500, 1000, 1000, 1000])
    c.advance(60_001)
    expect(b.beforeCheck('10.0.0.1', 'x')).toBe(0)
  })

  it('holds refusals for an identity guessed from many addresses, never a success', () => {
    const c = clock()
    const b = createAuthBrake({ freeFailures: 2, maxDelayMs: 10_000, forgetMs: 60_000 }, c.now)
    const holds = [1, 2, 3, 4, 5].map((i) => b.failed(`10.0.1.${i}`, 'dev'))
    expect(holds).toEqual([0, 0, 250, 500, 1000])
    expect(b.beforeCheck('10.0.2.1', 'dev')).toBe(0)
  })

  it('lets a device that has succeeded from an address past that address’s brake', () => {
    const c = clock()
    const b = createAuthBrake({ freeFailures: 0, maxDelayMs: 500, forgetMs: 60_000 }, c.now)
    b.succeeded('10.0.0.9', 'known')
    for (let i = 0; i < 5; i++) b.failed('10.0.0.9', 'other')
    expect(b.beforeCheck('10.0.0.9', 'stranger')).toBe(500)
    expect(b.beforeCheck('10.0.0.9', 'stranger')).toBe(-1)
    expect(b.beforeCheck('10.0.0.9', 'known')).toBe(0)
  })

  it('brakes IPv6 clients by /64 and IPv4-mapped addresses as IPv4', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64')
    expect(addressKey('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64')
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64')
    expect(addressKey('::1')).toBe('0:0:0:0::/64')
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64')
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7')
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7')
    const b = createAuthBrake({ freeFailures: 0, maxDelayMs: 100, forgetMs: 60_000 }, () => 0)
    b.failed('2001:db8:1:2::a', 'x')
    expect(b.beforeCheck('2001:db8:1:2::b', 'x')).toBeGreaterThan(0)
  })

  it('does nothing when turned off', () => {
    const b = createAuthBrake({ freeFailures: 0, maxDelayMs: 0, forgetMs: 60_000 })
    for (let i = 0; i < 100; i++) expect(b.failed('10.0.0.1', 'x')).toBe(0)
    expect(b.beforeCheck('10.0.0.1', 'x')).toBe(0)
  })
})
