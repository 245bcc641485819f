import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { createOutboxThread, type OutboxThread } from '../../outbox/thread.ts'
import { openRegistry, type Registry } from '../../store/registry.ts'
import { waitFor } from '../helpers/service.ts'

const config = {
  backoff: { firstMs: 100, maxMs: 1000, retryForMs: 60_000 },
  concurrency: 4,
  webhookTimeoutMs: 1000,
  allowHosts: [],
  open311: null,
  vapidSubject: null,
}

describe('the outbox thread', () => {
  let dir: string
  let registry: Registry
  let thread: OutboxThread | undefined
  afterEach(async () => {
    await thread?.close(Date.now() + 2000)
    await registry.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const start = async () => {
    dir = mkdtempSync(join(tmpdir(), 'sp-outbox-thread-'))
    registry = await openRegistry({ dataDir: dir, createAdminToken: false })
    const lines: Record<string, unknown>[] = []
    const sink = new Writable({
      write(chunk, _e, cb) {
        lines.push(JSON.parse(String(chunk)))
        cb()
      },
    })
    const pokes = new Set<() => void>()
    thread = createOutboxThread({
      store: { dataDir: dir },
      outbox: registry.outbox,
      config,
      bus: {
        on: (_e, fn) => {
          pokes.add(fn)
          return () => pokes.delete(fn)
        },
      },
      log: pino({ level: 'info' }, sink),
    })
    return { lines, pokes }
  }

  it('starts every source from now before the thread is up, and the thread logs through the service logger', async () => {
    const { lines } = await start()
    expect(await registry.outbox.cursor('alert_history')).toBeNull()
    await thread!.start()
    // The cursors are there before the thread has even loaded: events from here on are not skipped.
    for (const s of registry.outbox.sources) expect(await registry.outbox.cursor(s.name), s.name).not.toBeNull()
    await waitFor(() => lines.some((l) => l.msg === 'outbox thread started'), 20_000)
  })

  it('starts a thread that died again, waiting longer each time it dies young, and ends it within the deadline on close', async () => {
    const { lines, pokes } = await start()
    await thread!.start()
    expect(pokes.size).toBe(5)
    await waitFor(() => lines.filter((l) => l.msg === 'outbox thread started').length === 1, 20_000)
    const first = thread!.thread()!
    await first.terminate()
    await waitFor(() => lines.some((l) => l.msg?.toString().startsWith('the outbox thread stopped')), 5_000)
    await waitFor(() => lines.filter((l) => l.msg === 'outbox thread started').length === 2, 20_000)
    expect(thread!.thread()).not.toBe(first)
    // Dead again within its first minute: the next start waits longer, so a crash on start cannot spin.
    await thread!.thread()!.terminate()
    const stops = () => lines.filter((l) => String(l.msg).startsWith('the outbox thread stopped')).map((l) => l.restartInMs)
    await waitFor(() => stops().length === 2, 5_000)
    expect(stops()).toEqual([1000, 5000])
    const t0 = Date.now()
    await thread!.close(Date.now() + 500)
    expect(Date.now() - t0).toBeLessThan(2_000)
    expect(thread!.thread()).toBeNull()
    expect(pokes.size).toBe(0)
    // Closed while waiting to start again: it stays stopped.
    await new Promise((r) => setTimeout(r, 200))
    expect(thread!.thread()).toBeNull()
    thread = undefined
  })
})
