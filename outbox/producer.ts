import type { Logger } from 'pino'
import type { OutboxChannel, RoutedEvent } from '#devices'
import type { OutboxSource, SourceRow } from '../store/outbox-sources.ts'
import type { NewDelivery, OutboxStore } from '../store/outbox-store.ts'
import type { WebhookRoute } from '../store/webhook-store.ts'

export interface ProducerOptions {
  sources: readonly OutboxSource[]
  store: Pick<OutboxStore, 'cursor' | 'commit'>
  routes(): Promise<WebhookRoute[]>
  /** Every area's sites, asked only when a subscription names areas. */
  sitesByArea(): Promise<Map<string, string[]>>
  /** Channels routed by configuration rather than by subscription (Open311: an alert of a mapped rule). */
  configured?(e: RoutedEvent): Promise<{ channel: OutboxChannel; target: string }[]>
  batch: number
  pollMs: number
  /**
   * How long a gap in a source's ids is waited for. On PostgreSQL an id is taken when a row is
   * written but seen only when its transaction commits, so a later id can be seen first; a gap
   * that stays this long is a transaction that rolled back.
   */
  gapWaitMs: number
  log: Logger
  /** The most deliveries one commit makes (default 2,000); a row's deliveries are never split. */
  maxDeliveries?: number
  /** New deliveries were stored (the senders can look). */
  onDeliveries(): void
}

const MAX_DELIVERIES = 2_000

/** Does a subscription want this event? Empty rule and area lists mean "any". */
export function matches(r: WebhookRoute, e: RoutedEvent, sitesByArea: ReadonlyMap<string, readonly string[]>): boolean {
  if (!r.eventTypes.includes(e.type)) return false
  if (r.ruleIds.length > 0 && (e.ruleId === null || !r.ruleIds.includes(e.ruleId))) return false
  if (r.areas.length > 0 && (e.site === null || !r.areas.some((a) => sitesByArea.get(a)?.includes(e.site!)))) return false
  return true
}

/** The rows from the cursor on that can be taken now: up to the first gap still waited for. */
export function contiguous(
  rows: readonly SourceRow[],
  cursor: number,
  gapSince: Map<string, number>,
  key: string,
  now: number,
  waitMs: number,
) {
  const out: SourceRow[] = []
  let expected = cursor + 1
  for (const r of rows) {
    if (r.id !== expected) {
      const gap = `${key}:${expected}`
      const since = gapSince.get(gap) ?? now
      gapSince.set(gap, since)
      if (now - since < waitMs) break
      gapSince.delete(gap)
    }
    out.push(r)
    expected = r.id + 1
  }
  return out
}

/**
 * The outbox's first run on a store: it sends what happens from now on, not the whole past. Done
 * before the service takes traffic (the thread starting the producer may come up a second later).
 */
export async function startCursors(store: Pick<OutboxStore, 'cursor' | 'commit'>, sources: readonly OutboxSource[]): Promise<void> {
  for (const s of sources) if ((await store.cursor(s.name)) === null) await store.commit(s.name, 0, await s.latest(), [])
}

/**
 * The outbox's producer: follows each source from its own cursor, turns rows into events, matches
 * them against the subscriptions, and stores the deliveries and the moved cursor in one
 * transaction, so a kill -9 at any point neither loses nor doubles one.
 */
export function createProducer(o: ProducerOptions) {
  const gapSince = new Map<string, number>()
  let timer: NodeJS.Timeout | null = null
  let running: Promise<void> | null = null
  let again = false
  let stopped = true

  /** One batch of one source; true when there may be more. */
  async function step(source: OutboxSource): Promise<boolean> {
    const stored = await o.store.cursor(source.name)
    if (stored === null) {
      await startCursors(o.store, [source])
      return true
    }
    const cursor = stored
    const rows = await source.after(cursor, o.batch)
    if (rows.length === 0) return false
    const take = contiguous(rows, cursor, gapSince, source.name, Date.now(), o.gapWaitMs)
    if (take.length === 0) return false
    const deliveries: NewDelivery[] = []
    // Rows are taken whole until the deliveries reach the cap: one transaction holds the store's
    // write lock, and the service's other writers wait for it.
    let last = take[0]!.id
    let taken = 0
    const routes = take.some((r) => r.events.length > 0) ? await o.routes() : []
    const areas = routes.some((r) => r.areas.length > 0) ? await o.sitesByArea() : new Map<string, string[]>()
    for (const row of take) {
      if (taken > 0 && deliveries.length >= (o.maxDeliveries ?? MAX_DELIVERIES)) break
      for (const e of row.events) {
        const payload = JSON.stringify(e.payload)
        for (const r of routes)
          if (matches(r, e, areas)) deliveries.push({ eventId: e.id, eventType: e.type, channel: 'webhook', target: r.id, payload })
        for (const c of (await o.configured?.(e)) ?? []) deliveries.push({ eventId: e.id, eventType: e.type, ...c, payload })
      }
      last = row.id
      taken++
    }
    const added = await o.store.commit(source.name, cursor, last, deliveries)
    if (added === false) {
      o.log.warn({ source: source.name }, 'outbox cursor moved by another producer; reading again')
      return true
    }
    if (added > 0) o.onDeliveries()
    return taken < take.length || (take.length === rows.length && rows.length === o.batch)
  }

  async function run() {
    do {
      again = false
      for (const s of o.sources) {
        try {
          while (!stopped && (await step(s))) {}
        } catch (e) {
          o.log.warn({ source: s.name, err: (e as Error).message }, 'outbox producer failed; trying again')
        }
      }
    } while (again && !stopped)
  }

  function poke() {
    if (stopped) return
    if (running) {
      again = true
      return
    }
    running = run().finally(() => {
      running = null
      if (!stopped) {
        timer = setTimeout(poke, o.pollMs)
        timer.unref?.()
      }
    })
  }

  return {
    start() {
      stopped = false
      poke()
    },
    /** Something was written to a source: look now rather than at the next poll. */
    poke() {
      if (timer) clearTimeout(timer)
      poke()
    },
    async close() {
      stopped = true
      if (timer) clearTimeout(timer)
      await running
    },
  }
}
