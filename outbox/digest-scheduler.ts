import type { Logger } from 'pino'
import { DIGEST_EVENT_TYPE, type DigestPayload, digestEventId, londonDate, londonMinutes, type NotificationPrefs } from '#devices'
import type { NewDelivery } from '../store/outbox-store.ts'

export interface DigestSchedulerOptions {
  /** DIGEST_HOUR: London time, 0–23. */
  hour: number
  people(): Promise<readonly { id: string; status: string; email: string }[]>
  prefs(personId: string): Promise<NotificationPrefs>
  /** The outbox store's enqueue: the unique (channel, target, event) key makes a second digest of a day a no-op. */
  enqueue(deliveries: readonly NewDelivery[], at?: Date): Promise<number>
  /** The senders look now. */
  wake(): void
  log: Logger
  now?: () => number
  /** The longest sleep between two looks at the clock, so a clock change or a suspended machine is noticed. */
  checkMs?: number
}

const MINUTE = 60_000

/**
 * Makes the daily digests: at DIGEST_HOUR London time, and on start when that hour has passed
 * today, one delivery per active person who chose a digest, each due at once. The digest's event
 * id names the person and the day, so a restart (or two services on one database) makes nothing
 * twice; what the digest says is read when it is sent.
 */
export function createDigestScheduler(o: DigestSchedulerOptions) {
  const now = o.now ?? Date.now
  const checkMs = o.checkMs ?? 15 * MINUTE
  let timer: NodeJS.Timeout | null = null
  let running: Promise<void> | null = null
  let stopped = true
  /** The London day whose digests this process made; after a restart, the unique key guards instead. */
  let made: string | null = null

  /** Enqueues the digests of `date`; returns how many were new. */
  async function make(date: string, at: number): Promise<number> {
    const deliveries: NewDelivery[] = []
    for (const p of await o.people()) {
      if (p.status !== 'active' || !p.email || !(await o.prefs(p.id)).digest) continue
      const payload: DigestPayload = { type: 'digest', personId: p.id, date }
      deliveries.push({
        eventId: digestEventId(p.id, date),
        eventType: DIGEST_EVENT_TYPE,
        channel: 'email',
        target: p.id,
        payload: JSON.stringify(payload),
      })
    }
    const added = deliveries.length ? await o.enqueue(deliveries, new Date(at)) : 0
    if (added > 0) o.wake()
    o.log.info({ date, people: deliveries.length, added }, 'daily digests made')
    return added
  }

  /** Ms until the next DIGEST_HOUR:00 London time, at most checkMs. */
  function sleepFor(t: number): number {
    const minutes = londonMinutes(t)
    const target = o.hour * 60
    const ahead = target > minutes ? target - minutes : 1440 - minutes + target
    return Math.min(checkMs, Math.max(1000, ahead * MINUTE - (t % MINUTE)))
  }

  async function tick(): Promise<void> {
    const t = now()
    const date = londonDate(t)
    let wait = sleepFor(t)
    if (made !== date && londonMinutes(t) >= o.hour * 60) {
      try {
        await make(date, t)
        made = date
      } catch (e) {
        o.log.warn({ err: (e as Error).message }, 'daily digests not made; trying again in a minute')
        wait = MINUTE
      }
    }
    if (!stopped) {
      timer = setTimeout(run, wait)
      timer.unref?.()
    }
  }
  function run() {
    running = tick().finally(() => {
      running = null
    })
  }

  return {
    start() {
      if (!stopped) return
      stopped = false
      run()
    },
    async close() {
      stopped = true
      if (timer) clearTimeout(timer)
      timer = null
      await running
    },
  }
}
export type DigestScheduler = ReturnType<typeof createDigestScheduler>
