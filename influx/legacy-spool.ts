import { existsSync } from 'node:fs'
import { readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { InfluxClient } from './client.ts'

const BATCH_LINES = 5000

/**
 * Releases before the durable log kept accepted readings as line protocol in
 * DATA_DIR/spool (segments `NNNNNNNNNNNN.seg` and `checkpoint.json`). What that
 * spool held past its checkpoint was acknowledged but maybe not yet in InfluxDB:
 * this writes it there, retrying with backoff, and removes the spool only when
 * every line is confirmed. Alerts were already evaluated for those readings, so
 * they do not go through the new log.
 */
export function createLegacySpoolDrain(deps: { dataDir: string; client: InfluxClient; log: Logger }) {
  const dir = join(deps.dataDir, 'spool')
  let stopped = false
  let run: Promise<void> | null = null
  let wake: () => void = () => {}

  const linesToWrite = async (): Promise<string[]> => {
    let checkpoint = { segment: 0, offset: 0 }
    try {
      checkpoint = JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8'))
    } catch {}
    const segments = (await readdir(dir)).filter((f) => /^\d{12}\.seg$/.test(f)).sort()
    const lines: string[] = []
    for (const name of segments) {
      const id = Number(name.slice(0, 12))
      if (id < checkpoint.segment) continue
      const text = (await readFile(join(dir, name))).toString('utf8', id === checkpoint.segment ? checkpoint.offset : 0)
      // A torn last line (a crash mid-write) was never acknowledged.
      for (const line of text.split('\n').slice(0, -1)) if (line) lines.push(line)
    }
    return lines
  }

  /** Writes lines, halving a refused batch until the refused line stands alone; false means "InfluxDB unavailable, retry". */
  const writeAll = async (lines: string[]): Promise<boolean> => {
    const r = await deps.client.write(lines)
    if (r.kind === 'ok') return true
    if (r.kind === 'retry') {
      deps.log.warn({ reason: r.reason }, 'legacy spool: InfluxDB write failed; retrying')
      return false
    }
    if (lines.length === 1) {
      // Refused on its own it would be refused forever: logged with its reason, not retried.
      deps.log.error({ reason: r.reason, line: lines[0] }, 'legacy spool: InfluxDB refused a line')
      return true
    }
    const mid = lines.length >> 1
    return (await writeAll(lines.slice(0, mid))) && (await writeAll(lines.slice(mid)))
  }

  const drain = async () => {
    const lines = await linesToWrite()
    deps.log.info({ lines: lines.length, dir }, 'writing the readings of an earlier release’s spool to InfluxDB')
    let delay = 500
    for (let i = 0; i < lines.length && !stopped; ) {
      const batch = lines.slice(i, i + BATCH_LINES)
      if (!(await writeAll(batch))) {
        await new Promise<void>((res) => {
          wake = res
          setTimeout(res, delay).unref()
        })
        delay = Math.min(delay * 2, 30_000)
        continue
      }
      i += batch.length
      delay = 500
    }
    if (!stopped) {
      await rm(dir, { recursive: true, force: true })
      deps.log.info({ lines: lines.length }, 'legacy spool written to InfluxDB and removed')
    }
  }

  return {
    start() {
      if (!existsSync(dir)) return
      run = drain().catch((e: Error) =>
        deps.log.error({ err: e.message }, 'legacy spool drain failed; it is tried again at the next start'),
      )
    },
    async close(_deadline?: number) {
      stopped = true
      wake()
      await run
    },
  }
}
