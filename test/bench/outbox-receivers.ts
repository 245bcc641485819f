import { Worker } from 'node:worker_threads'
import { onCleanup } from './cleanup.ts'
import { createTally, type Delivered, type Tally } from './outbox-tally.ts'

export interface Receivers {
  /** Where subscription `n` points: a healthy receiver, or the black hole. */
  urlOf(n: number, dead: boolean): string
  tally: Tally
  /** Connections the black hole accepted: one per attempt (a timed-out connection is not reused). */
  blackHoleAttempts(): number
  close(): Promise<void>
}

type FromThread =
  | { type: 'ready'; healthy: number[]; holePort: number }
  | { type: 'seen'; deliveries: Delivered[]; attempts: number }
  | { type: 'closed' }

/**
 * The webhook targets (outbox-receivers-thread.ts) on a thread of their own: answering 600
 * deliveries a second on the load generator's event loop delayed its PUBACK clock (its own loop's
 * p99 delay went from 7 to 11 ms), which the bench would have charged to the service. The tally is
 * kept here, from what the thread reports every 20 ms.
 */
export async function startReceivers(ports = 4): Promise<Receivers> {
  const tally = createTally()
  let attempts = 0
  const worker = new Worker(new URL('../../outbox/worker-boot.mjs', import.meta.url), {
    workerData: { entry: new URL('./outbox-receivers-thread.ts', import.meta.url).href, ports },
  })
  let closed: (() => void) | null = null
  const ready = new Promise<{ healthy: number[]; holePort: number }>((resolve, reject) => {
    worker.once('error', reject)
    worker.on('message', (m: FromThread) => {
      if (m.type === 'ready') resolve(m)
      else if (m.type === 'seen') {
        for (const d of m.deliveries) tally.record(d)
        attempts = m.attempts
      } else if (m.type === 'closed') closed?.()
    })
  })
  const { healthy, holePort } = await ready

  let done = false
  const close = async () => {
    if (done) return
    done = true
    const ended = new Promise<void>((r) => (closed = r))
    worker.postMessage({ type: 'close' })
    await Promise.race([ended, new Promise((r) => setTimeout(r, 5_000))])
    await worker.terminate()
  }
  const dropCleanup = onCleanup(close)
  return {
    urlOf: (n, dead) => (dead ? `http://127.0.0.1:${holePort}/hook/${n}` : `http://127.0.0.1:${healthy[n % healthy.length]}/hook/${n}`),
    tally,
    blackHoleAttempts: () => attempts,
    async close() {
      await close()
      dropCleanup()
    },
  }
}
