import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { clusterOf } from '../../service/cluster-wiring.ts'
import { parseConfig, type ServiceConfig } from '../../service/config.ts'

// Secure by default: cluster mode's engines (NATS, Redis) take credentials, each from a file.
describe("cluster mode's engine credentials", () => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-engine-creds-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const base = {
    CLUSTER_NATS_URL: 'nats://10.0.0.1:4222,nats://10.0.0.2:4222',
    CLUSTER_REDIS_URL: 'redis://10.0.0.9:6379',
    DATABASE_URL: 'postgres://smartplace@db/smartplace',
    SERVER_KEY_FILE: '/run/secrets/server_key',
  }
  const file = (name: string, text: string) => {
    const p = join(dir, name)
    writeFileSync(p, text, { mode: 0o600 })
    return p
  }
  const config = (env: Record<string, string>): ServiceConfig => {
    const r = parseConfig(env)
    if (!r.ok) throw new Error(r.errors.join('; '))
    return r.config
  }

  it('refuses cluster mode without them, naming both at once', () => {
    const r = parseConfig(base)
    expect(r.ok).toBe(false)
    if (!r.ok)
      expect(r.errors.map((e) => e.split(':')[0])).toEqual(
        expect.arrayContaining(['CLUSTER_NATS_TOKEN_FILE', 'CLUSTER_REDIS_PASSWORD_FILE']),
      )
  })

  it("takes Redis's password from its URL instead of a file", () => {
    const r = parseConfig({ ...base, CLUSTER_NATS_TOKEN_FILE: '/x', CLUSTER_REDIS_URL: 'redis://:s3cret-s3cret-s3cret@10.0.0.9:6379' })
    expect(r.ok).toBe(true)
  })

  it('reads each file once, trimmed, and puts the password in the Redis URL the clients use', () => {
    const token = 'a'.repeat(64)
    const c = clusterOf(
      config({
        ...base,
        CLUSTER_NATS_TOKEN_FILE: file('nats.token', `${token}\n`),
        CLUSTER_REDIS_PASSWORD_FILE: file('redis.password', 'p@ss/word+0123456789\n'),
      }),
    )
    expect(c?.natsToken).toBe(token)
    const u = new URL(c!.redis)
    expect(decodeURIComponent(u.password)).toBe('p@ss/word+0123456789')
    expect(u.host).toBe('10.0.0.9:6379')
  })

  it('stops the start with a stable code when a file cannot be read, or holds too little to be a secret', () => {
    const redis = file('redis.ok', 'r'.repeat(32))
    expect(() => clusterOf(config({ ...base, CLUSTER_NATS_TOKEN_FILE: join(dir, 'missing'), CLUSTER_REDIS_PASSWORD_FILE: redis }))).toThrow(
      /^CONFIG_SECRET_UNREADABLE: CLUSTER_NATS_TOKEN_FILE: cannot read .*missing \(ENOENT\)/,
    )
    expect(() =>
      clusterOf(config({ ...base, CLUSTER_NATS_TOKEN_FILE: file('short', 'abc\n'), CLUSTER_REDIS_PASSWORD_FILE: redis })),
    ).toThrow(/^CONFIG_SECRET_WEAK: CLUSTER_NATS_TOKEN_FILE/)
    // The token is written into the servers' configuration and route URLs as it is: plain characters only.
    expect(() =>
      clusterOf(config({ ...base, CLUSTER_NATS_TOKEN_FILE: file('quoted', `${'a'.repeat(20)}"}\n`), CLUSTER_REDIS_PASSWORD_FILE: redis })),
    ).toThrow(/^CONFIG_SECRET_FORMAT: CLUSTER_NATS_TOKEN_FILE/)
  })
})
