import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRevocationWatch } from '../../registry/revocation-watch.ts'
import { connectDevice, startService, type TestService } from '../helpers/service.ts'

const run = promisify(execFile)

describe('revoking with the CLI reaches a running service (issue: CLI revoke leaves the device connected)', () => {
  let svc: TestService

  // The service's own revocation watch, as service.ts wires it.
  beforeAll(async () => {
    svc = await startService()
  })
  afterAll(async () => {
    await svc?.close()
  })

  it('disconnects the device within 5 s of `devices revoke`, and it cannot reconnect', { timeout: 60_000 }, async () => {
    const d = await svc.provision({ id: 'bin-cli', type: 'bin' })
    const client = await connectDevice(svc.mqttUrl, d.id, d.secret)
    const closedAt = new Promise<number>((r) => client.once('close', () => r(Date.now())))

    // The real CLI, a separate process writing the registry's SQLite file directly.
    const cli = await run(process.execPath, ['--import', 'tsx', 'service/devices-cli.ts', 'revoke', '--id', d.id], {
      env: { ...process.env, DATA_DIR: svc.dataDir },
    })
    const revokedAt = Date.now()
    expect(cli.stdout).toContain(`revoked ${d.id}`)

    const closed = await Promise.race([closedAt, new Promise<null>((r) => setTimeout(() => r(null), 5_000))])
    client.end(true)
    expect(closed, 'still connected 5 s after the CLI revoked it').not.toBeNull()
    expect(closed! - revokedAt).toBeLessThan(5_000)
    await expect(connectDevice(svc.mqttUrl, d.id, d.secret)).rejects.toThrow(/Bad username or password/i)
  })
})

describe('the revocation watch', () => {
  const fakeRepo = (rows: { id: string; revokedAt: string }[]) => {
    const calls: string[] = []
    const revokedSince = async (since: string) => {
      calls.push(since)
      return rows.filter((r) => r.revokedAt >= since)
    }
    return { calls, devices: { revokedSince } }
  }

  it('does nothing until start, drops each revoked device once, and stops polling on close', async () => {
    const t = Date.parse('2030-01-01T00:00:00Z')
    const rows = [{ id: 'bin-1', revokedAt: new Date(t - 1_000).toISOString() }]
    const repo = fakeRepo(rows)
    const dropped: string[] = []
    const w = createRevocationWatch({ devices: repo.devices, disconnect: (id) => dropped.push(id), intervalMs: 10, now: () => t })
    await new Promise((r) => setTimeout(r, 30))
    expect(repo.calls).toHaveLength(0)

    w.start()
    rows.push({ id: 'bin-2', revokedAt: new Date(t - 2_000).toISOString() }) // committed late with an earlier stamp
    await new Promise((r) => setTimeout(r, 50))
    expect(dropped).toEqual(['bin-1', 'bin-2'])

    await w.close()
    const polls = repo.calls.length
    await new Promise((r) => setTimeout(r, 50))
    expect(repo.calls.length).toBe(polls)
  })

  it('keeps polling when the registry cannot be read', async () => {
    let fail = true
    const dropped: string[] = []
    const w = createRevocationWatch({
      devices: {
        revokedSince: async () => {
          if (fail) throw new Error('SQLITE_BUSY')
          return [{ id: 'bin-3', revokedAt: new Date().toISOString() }]
        },
      },
      disconnect: (id) => dropped.push(id),
      intervalMs: 10,
    })
    w.start()
    await new Promise((r) => setTimeout(r, 30))
    fail = false
    await new Promise((r) => setTimeout(r, 30))
    await w.close()
    expect(dropped).toEqual(['bin-3'])
  })
})
