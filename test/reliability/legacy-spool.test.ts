import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { countPoints, startService, type TestService, waitFor } from '../helpers/service.ts'

describe('upgrading from the line-protocol spool of earlier releases', () => {
  let svc: TestService | null = null
  const dataDir = mkdtempSync(join(tmpdir(), 'sp-legacy-'))
  afterAll(async () => {
    await svc?.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('writes what the old spool held past its checkpoint to InfluxDB, and removes it', async () => {
    const spool = join(dataDir, 'spool')
    mkdirSync(spool, { recursive: true })
    const t = Date.now() - 60_000
    const line = (id: string, i: number) => `bin,device_id=${id},site=old fillingLevel=0.${i}5,tilted=0.0 ${t + i}`
    // Segment 1 lies wholly before the checkpoint; segment 2 is confirmed up to `done`; the rest was acknowledged only.
    const seg1 = `${[0, 1, 2].map((i) => line('bin-confirmed', i)).join('\n')}\n`
    const done = `${[3, 4].map((i) => line('bin-confirmed', i)).join('\n')}\n`
    const pending = `${[0, 1, 2, 3].map((i) => line('bin-pending', i)).join('\n')}\n`
    writeFileSync(join(spool, '000000000001.seg'), seg1)
    writeFileSync(join(spool, '000000000002.seg'), done + pending)
    // A torn last line (the process died mid-write): never acknowledged, never written.
    writeFileSync(join(spool, '000000000003.seg'), `${line('bin-pending', 4)}\n${line('bin-torn', 0).slice(0, 25)}`)
    writeFileSync(join(spool, 'checkpoint.json'), JSON.stringify({ segment: 2, offset: Buffer.byteLength(done) }))

    svc = await startService({}, { dataDir })
    await waitFor(() => !existsSync(spool), 10_000)
    expect(await countPoints(svc.influxUrl, svc.db, 'bin', `"device_id" = 'bin-pending'`)).toBe(5)
    expect(await countPoints(svc.influxUrl, svc.db, 'bin', `"device_id" = 'bin-confirmed'`)).toBe(0)
    expect(await countPoints(svc.influxUrl, svc.db, 'bin', `"device_id" = 'bin-torn'`)).toBe(0)
  })
})
