import { describe, expect, it } from 'vitest'
import { classifyAddress, createTargetPolicy } from '../../outbox/ssrf.ts'

describe('SSRF address classes', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['93.184.215.14', 'public'],
    ['0.0.0.0', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['100.128.0.1', 'public'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['2a00:1450:4009:81f::200e', 'public'],
    ['[::1]', 'loopback'],
  ])('%s is %s', (address, cls) => {
    expect(classifyAddress(address)).toBe(cls)
  })
})

describe('webhook target policy', () => {
  const dns = (answers: Record<string, string[]>) => async (host: string) => {
    const a = answers[host]
    if (!a) throw new Error('ENOTFOUND')
    return a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
  }

  it('refuses a host that resolves to a private address, even beside a public one, with a stable code', async () => {
    const policy = createTargetPolicy([], dns({ 'hooks.example': ['93.184.215.14'], 'mixed.example': ['93.184.215.14', '10.0.0.5'] }))
    expect(await policy.check('hooks.example')).toEqual({ ok: true, addresses: [{ address: '93.184.215.14', family: 4 }] })
    const mixed = await policy.check('mixed.example')
    expect(mixed).toMatchObject({ ok: false, code: 'WEBHOOK_TARGET_REFUSED' })
    expect((mixed as { message: string }).message).toContain('10.0.0.5, which is a private address')
    expect(await policy.check('127.0.0.1')).toMatchObject({ ok: false, code: 'WEBHOOK_TARGET_REFUSED' })
    expect(await policy.check('[::ffff:127.0.0.1]')).toMatchObject({ ok: false, code: 'WEBHOOK_TARGET_REFUSED' })
    expect(await policy.check('nowhere.example')).toMatchObject({ ok: false, code: 'WEBHOOK_TARGET_UNRESOLVED' })
  })

  it('allows a listed host name or a listed address, and nothing else private', async () => {
    const policy = createTargetPolicy(
      ['127.0.0.1', 'Receiver.Internal'],
      dns({ 'receiver.internal': ['10.9.9.9'], 'other.internal': ['10.9.9.8'] }),
    )
    expect(await policy.check('127.0.0.1')).toMatchObject({ ok: true })
    expect(await policy.check('receiver.internal')).toMatchObject({ ok: true, addresses: [{ address: '10.9.9.9' }] })
    expect(await policy.check('other.internal')).toMatchObject({ ok: false, code: 'WEBHOOK_TARGET_REFUSED' })
    expect(await policy.check('127.0.0.2')).toMatchObject({ ok: false })
    expect(await policy.check('::1')).toMatchObject({ ok: false })
  })
})
