import type { Logger } from 'pino'
import type { Delivery, OutboxChannel, SendOutcome } from '#devices'
import type { OutboxStore } from '../store/outbox-store.ts'
import { type BackoffPolicy, decide } from './backoff.ts'

/** Never look at the store more often than this (a head due "now" that a free slot could not take yet). */
const MIN_SLEEP_MS = 20

export interface SenderOptions {
  channel: OutboxChannel
  store: OutboxStore
  send(d: Delivery, signal: AbortSignal): Promise<SendOutcome>
  backoff: BackoffPolicy
  /** Deliveries in flight at once, each to a different target. */
  concurrency: number
  /** The longest sleep between two looks at the store (a wake() cuts it short). */
  pollMs: number
  log: Logger
  onOutcome?: (d: Delivery, state: 'delivered' | 'pending' | 'dead') => void
  random?: () => number
}

/**
 * One sender loop per channel (design D13). Each target's deliveries go one at a time in the
 * order they were made (the next waits for the one before to be delivered or dead); up to
 * `concurrency` targets are served at once, so a slow or dead target holds one slot and never
 * the others. Every outcome is stored before the target's next delivery is looked at.
 */
export function createSender(o: SenderOptions) {
  const inFlight = new Map<string, Promise<void>>()
  const abort = new AbortController()
  let timer: NodeJS.Timeout | null = null
  let running = false
  let again = false
  let stopped = true

  const schedule = (ms: number) => {
    if (stopped) return
    if (timer) clearTimeout(timer)
    timer = setTimeout(() => void pass(), Math.max(0, ms))
    timer.unref?.()
  }

  const attempt = async (d: Delivery) => {
    try {
      const outcome = await o.send(d, abort.signal)
      // Stopped mid-attempt: the delivery stays as it was and is tried again on the next start.
      if (abort.signal.aborted) return
      const r = decide(outcome, d, new Date(), o.backoff, o.random)
      await o.store.record(d.id, r)
      o.onOutcome?.(d, r.state)
      if (r.state === 'dead') o.log.warn({ delivery: d.id, target: d.target, error: r.error }, 'delivery dead-lettered')
    } catch (e) {
      // The store failed: the delivery is still pending and is looked at again.
      o.log.warn({ delivery: d.id, err: (e as Error).message }, 'delivery attempt not recorded')
    } finally {
      inFlight.delete(d.target)
      if (!stopped) wake()
    }
  }

  async function pass(): Promise<void> {
    if (stopped) return
    if (running) {
      again = true
      return
    }
    running = true
    try {
      do {
        again = false
        const free = o.concurrency - inFlight.size
        if (free <= 0) break
        const heads = await o.store.heads(o.channel, Date.now(), free, [...inFlight.keys()])
        for (const d of heads) {
          if (stopped || inFlight.has(d.target) || inFlight.size >= o.concurrency) continue
          inFlight.set(d.target, attempt(d))
        }
      } while (again && !stopped)
      // Every slot taken: the next attempt to end wakes the loop. Else sleep until the earliest head of a free target is due.
      const due = inFlight.size >= o.concurrency ? null : await o.store.nextDue(o.channel, [...inFlight.keys()])
      schedule(due === null ? o.pollMs : Math.min(o.pollMs, Math.max(MIN_SLEEP_MS, due - Date.now())))
    } catch (e) {
      o.log.warn({ channel: o.channel, err: (e as Error).message }, 'outbox sender pass failed; trying again')
      schedule(o.pollMs)
    } finally {
      running = false
    }
  }

  function wake() {
    if (stopped) return
    if (running) again = true
    else schedule(0)
  }

  return {
    start() {
      stopped = false
      schedule(0)
    },
    wake,
    inFlight: () => inFlight.size,
    /** Stops taking deliveries; attempts still running get until `deadline`, then are aborted (they stay pending). */
    async close(deadline: number) {
      stopped = true
      if (timer) clearTimeout(timer)
      const all = Promise.allSettled([...inFlight.values()])
      const left = deadline - Date.now()
      let t: NodeJS.Timeout | undefined
      await Promise.race([all, new Promise((r) => (t = setTimeout(r, Math.max(0, left))))])
      clearTimeout(t)
      abort.abort()
      await all
    },
  }
}
export type Sender = ReturnType<typeof createSender>
