import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import type { ReadingRecord } from '#devices'
import { createLog } from '../../log/log.ts'
import { createReader } from '../../log/reader.ts'

const silent = pino({ level: 'silent' })
const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
const reading = (n: number): ReadingRecord => ({
  kind: 'reading',
  deviceId: 'bin-1',
  type: 'bin',
  site: 's',
  uprn: null,
  ts: n,
  receivedAt: n,
  quality: 'good',
  readings: { fillingLevel: 0.5, note: 'x'.repeat(900) },
})

describe('log at its ceiling', () => {
  it('refuses, seals the live segment so a caught-up reader frees it, and accepts again by itself', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sp-ceiling-'))
    dirs.push(dir)
    // 200 KiB ceiling with 64 MiB segments: without sealing, all data sits in the one live segment forever.
    const log = createLog(
      { dir, fsync: false, segmentBytes: 64 * 1024 * 1024, commitDelayMs: 0, maxBytes: 200 * 1024, minFreeBytes: 0 },
      silent,
    )
    log.start()
    let release: () => void = () => {}
    const gate = new Promise<void>((r) => {
      release = r
    })
    let handled = 0
    const reader = createReader({
      name: 'slow',
      log,
      logger: silent,
      maxRecords: 1000,
      handler: {
        load: async () => null,
        handle: async (b) => {
          await gate
          handled += b.records.length
          return undefined
        },
      },
    })
    reader.start()
    const append = (n: number) => new Promise<Error | null>((r) => log.append(reading(n), r))
    let accepted = 0
    let refusedWith: Error | null = null
    for (let n = 0; n < 1000 && !refusedWith; n++) {
      const err = await append(n)
      if (err) refusedWith = err
      else accepted++
    }
    expect(refusedWith?.message).toMatch(/^LOG_CEILING/)
    expect(log.refusal?.code).toBe('LOG_CEILING')

    release()
    // The reader catches up, passes the sealed segment, which is deleted; the next probe (1 s) lifts the refusal.
    await expect.poll(() => log.refusal, { timeout: 5_000 }).toBeNull()
    expect(handled).toBe(accepted)
    expect(log.stats().bytes).toBeLessThan(20 * 1024)
    expect(await append(5000)).toBeNull()
    await reader.close(Date.now() + 1_000)
    await log.close()
  })
})
