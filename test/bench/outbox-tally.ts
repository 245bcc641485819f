/**
 * What the bench's webhook receivers saw, per subscription (target): deliveries, the distinct
 * `webhook-id`s among them (a second one with the same id is a duplicate), and whether each
 * target's events arrived in order (the outbox's ids are `msg_ah<history id>`, increasing).
 * No I/O: the receivers feed it, the run reads it.
 */
export interface TargetCount {
  /** Every POST received, duplicates included. */
  received: number
  unique: number
  duplicates: number
  /** Deliveries whose event came before one this target already had. */
  outOfOrder: number
}

export interface Delivered {
  target: number
  webhookId: string
  /** When the receiver had it (epoch ms). */
  atMs: number
  /** When the event happened, from the payload (`data.at`); null when unreadable. */
  eventAtMs: number | null
}

/** The history id in `msg_ah123` (or `msg_ah123_offline`); null for another form. */
export function eventSeq(webhookId: string): number | null {
  const m = /^msg_ah(\d+)/.exec(webhookId)
  return m ? Number(m[1]) : null
}

export function createTally() {
  const byTarget = new Map<number, TargetCount & { ids: Set<string>; lastSeq: number }>()
  const times: number[] = []
  const lags: number[] = []
  const lagTargets: number[] = []

  return {
    record(d: Delivered) {
      let t = byTarget.get(d.target)
      if (!t) {
        t = { received: 0, unique: 0, duplicates: 0, outOfOrder: 0, ids: new Set(), lastSeq: -1 }
        byTarget.set(d.target, t)
      }
      t.received++
      if (t.ids.has(d.webhookId)) {
        t.duplicates++
        return
      }
      t.ids.add(d.webhookId)
      t.unique++
      const seq = eventSeq(d.webhookId)
      if (seq !== null) {
        if (seq < t.lastSeq) t.outOfOrder++
        else t.lastSeq = seq
      }
      times.push(d.atMs)
      lagTargets.push(d.target)
      lags.push(d.eventAtMs === null ? Number.NaN : d.atMs - d.eventAtMs)
    },
    /** A target's counts (zeros when it never received anything). */
    count(target: number): TargetCount {
      const t = byTarget.get(target)
      return t
        ? { received: t.received, unique: t.unique, duplicates: t.duplicates, outOfOrder: t.outOfOrder }
        : { received: 0, unique: 0, duplicates: 0, outOfOrder: 0 }
    },
    /** Sums over the given targets. */
    total(targets: Iterable<number>): TargetCount {
      const s: TargetCount = { received: 0, unique: 0, duplicates: 0, outOfOrder: 0 }
      for (const n of targets) {
        const c = this.count(n)
        s.received += c.received
        s.unique += c.unique
        s.duplicates += c.duplicates
        s.outOfOrder += c.outOfOrder
      }
      return s
    },
    /** The fewest distinct events any of the targets has had. */
    minUnique(targets: Iterable<number>): number {
      let min = Number.POSITIVE_INFINITY
      for (const n of targets) min = Math.min(min, this.count(n).unique)
      return min === Number.POSITIVE_INFINITY ? 0 : min
    },
    /**
     * First deliveries (not duplicates) to the given targets: how many arrived in [fromMs, toMs),
     * the last arrival, and event→delivered lags (ms) of those with a readable event time.
     */
    window(targets: ReadonlySet<number>, fromMs = Number.NEGATIVE_INFINITY, toMs = Number.POSITIVE_INFINITY) {
      let n = 0
      let lastMs: number | null = null
      const lagMs: number[] = []
      for (const [i, at] of times.entries()) {
        if (!targets.has(lagTargets[i]!) || at < fromMs || at >= toMs) continue
        n++
        lastMs = lastMs === null ? at : Math.max(lastMs, at)
        if (!Number.isNaN(lags[i]!)) lagMs.push(lags[i]!)
      }
      return { n, lastMs, lagMs }
    },
  }
}
export type Tally = ReturnType<typeof createTally>
