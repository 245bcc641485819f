import { Worker } from 'node:worker_threads'
import type { Logger } from 'pino'
import { settledBy } from '../log/deadline.ts'
import type { OutboxStore } from '../store/outbox-store.ts'
import { COMMIT_EVENTS, type CommitPokes } from './commit-events.ts'
import type { OutboxConfig } from './outbox.ts'
import { startCursors } from './producer.ts'
import { createTargetPolicy } from './ssrf.ts'

/** What the thread is started with: plain data (it crosses to the worker by structured clone). */
export interface OutboxWorkerData {
  entry: string
  store: {
    dataDir: string
    databaseUrl?: string | undefined
    databasePasswordFile?: string | undefined
    serverKeyFile?: string | undefined
  }
  config: OutboxConfig
  logLevel: string
}
export type ToOutbox = { type: 'poke' } | { type: 'wake' } | { type: 'close'; deadline: number }
type FromOutbox = { type: 'log'; line: string } | { type: 'started' } | { type: 'closed' } | { type: 'refused'; reason: string }

const RESTART_MS = [1_000, 5_000, 30_000]
/** A thread up this long is healthy again: the next failure waits the shortest time. */
const STEADY_MS = 60_000

/**
 * The durable outbox on a thread of its own. Measured on the event loop that also answers devices,
 * deliveries cost ingest its PUBACK latency (p99 8 ms → 60–80 ms with 500 subscriptions): the
 * thread has its own loop and its own connection to the store, and hears from this one only the
 * pokes that say something was committed. A thread that dies is started again; what it had not
 * delivered is still pending in the store.
 */
export function createOutboxThread(deps: {
  store: OutboxWorkerData['store']
  config: OutboxConfig
  bus: CommitPokes
  log: Logger
  /** This thread's handle on the outbox tables: the cursors start here, before any traffic. */
  outbox: Pick<OutboxStore, 'sources' | 'cursor' | 'commit'>
}) {
  const { log } = deps
  const policy = createTargetPolicy(deps.config.allowHosts)
  let worker: Worker | null = null
  let closing = false
  let fence: number | undefined
  let refused: string | null = null
  let failures = 0
  let startedAt = 0
  let restart: NodeJS.Timeout | undefined
  const unsubscribe: (() => void)[] = []

  const relay = (line: string) => {
    try {
      const { level, msg, time: _t, pid: _p, hostname: _h, ...fields } = JSON.parse(line) as Record<string, unknown>
      const at = typeof level === 'number' && level >= 50 ? 'error' : typeof level === 'number' && level >= 40 ? 'warn' : 'info'
      log[at](fields, String(msg ?? ''))
    } catch {
      log.warn({ line: line.slice(0, 500) }, 'unreadable log line from the outbox thread')
    }
  }

  const again = (why: Record<string, unknown>) => {
    if (closing) return
    // A thread that dies in its first minute (a crash in its first pass) backs off to 30 s instead of spinning.
    if (startedAt === 0 || Date.now() - startedAt < STEADY_MS) failures++
    else failures = 1
    const wait = RESTART_MS[Math.min(failures - 1, RESTART_MS.length - 1)]!
    log.error({ ...why, restartInMs: wait }, 'the outbox thread stopped; starting it again (pending deliveries are kept)')
    restart = setTimeout(spawn, wait)
    restart.unref?.()
  }

  function spawn() {
    startedAt = 0
    let w: Worker
    try {
      w = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
        workerData: {
          entry: new URL('./worker-main.ts', import.meta.url).href,
          store: deps.store,
          config: fence === undefined ? deps.config : { ...deps.config, fence },
          logLevel: log.level,
        } satisfies OutboxWorkerData,
      })
    } catch (e) {
      again({ err: (e as Error).message })
      return
    }
    worker = w
    w.on('message', (m: FromOutbox) => {
      if (m.type === 'log') relay(m.line)
      else if (m.type === 'started') startedAt = Date.now()
      else if (m.type === 'refused') refused = m.reason
    })
    w.on('error', (e) => log.error({ err: e.message, stack: e.stack }, 'the outbox thread failed'))
    w.on('exit', (code) => {
      // A thread closed while a new one was already started (the lease lost and taken again at once):
      // the new one runs, and starting a third beside it would run the outbox twice.
      if (worker !== w) return
      worker = null
      again({ code })
    })
  }
  const post = (m: ToOutbox) => worker?.postMessage(m)

  return {
    policy,
    /** `epoch`: cluster mode, this node's lease on the outbox; every attempt is fenced with it. */
    async start(epoch?: number) {
      closing = false
      fence = epoch
      refused = null
      await startCursors(deps.outbox, deps.outbox.sources)
      spawn()
      for (const e of COMMIT_EVENTS) unsubscribe.push(deps.bus.on(e, () => post({ type: 'poke' }), 'outbox'))
    },
    /** Why the thread sends nothing although this node holds the outbox: its fence was refused (a newer epoch holds it). */
    refused: (): string | null => refused,
    /** The thread now, if one is running (health, and the tests that stop it). */
    thread: (): Worker | null => worker,
    /** A delivery was replayed or a subscription changed: the senders read their whole index again. */
    wake() {
      post({ type: 'wake' })
    },
    /** Deliveries in flight get until `deadline`; the thread is ended after it whatever it is doing. */
    async close(deadline: number) {
      closing = true
      clearTimeout(restart)
      for (const u of unsubscribe.splice(0)) u()
      const w = worker
      if (!w) return
      const exited = new Promise<void>((r) => w.once('exit', () => r()))
      w.postMessage({ type: 'close', deadline } satisfies ToOutbox)
      // Until the deadline (the service still closes its own store and InfluxDB after it); then it is stopped.
      if (!(await settledBy(exited, deadline))) await w.terminate()
    },
  }
}
export type OutboxThread = ReturnType<typeof createOutboxThread>
