import { londonDayNumber, type WrittenSpan } from '#devices'

/** What an open dataset's rows are made of and may change under it. */
export type ChangeKind = 'bin' | 'meter' | 'collection'

/** The span of reading times of each open-data type in a batch: one pass, two numbers per type. */
export function writtenSpans(records: readonly { type: string; ts: number }[]): WrittenSpan[] {
  let binFirst = Number.POSITIVE_INFINITY
  let binLast = Number.NEGATIVE_INFINITY
  let meterFirst = Number.POSITIVE_INFINITY
  let meterLast = Number.NEGATIVE_INFINITY
  for (const r of records) {
    if (r.type === 'bin') {
      if (r.ts < binFirst) binFirst = r.ts
      if (r.ts > binLast) binLast = r.ts
    } else if (r.type === 'meter') {
      if (r.ts < meterFirst) meterFirst = r.ts
      if (r.ts > meterLast) meterLast = r.ts
    }
  }
  const spans: WrittenSpan[] = []
  if (binLast >= binFirst) spans.push({ type: 'bin', first: binFirst, last: binLast })
  if (meterLast >= meterFirst) spans.push({ type: 'meter', first: meterFirst, last: meterLast })
  return spans
}

/**
 * When each London day of readings or collections last changed, by this process's clock: the
 * InfluxDB writer notes each batch it lands, the round store each collection. A late reading (a
 * device catching up after an outage) changes an old day's aggregates without being the newest
 * point, so a version made from the newest point would let a cache keep stale rows; this cannot.
 * Held in memory: after a restart every day reads as changed at the start, which only costs caches
 * one fresh download. In cluster mode each node's clock also hears of the other nodes' writes (a notice per batch).
 */
export function createChangeClock(now: () => number = Date.now) {
  let started = now()
  const days: Record<ChangeKind, Map<number, number>> = { bin: new Map(), meter: new Map(), collection: new Map() }

  let lastMark = started
  const mark = (kind: ChangeKind, first: number, last: number) => {
    // Strictly after the mark before: a batch is noted before and after its write, and the two must
    // make different versions even within one millisecond (influx/writer.ts says why).
    const at = Math.max(now(), lastMark + 1)
    lastMark = at
    const map = days[kind]
    for (let d = londonDayNumber(first); d <= londonDayNumber(last); d++) map.set(d, at)
  }

  return {
    /** Cluster mode: another node's writer landed readings of this type over [first, last]. */
    noteSpan(kind: 'bin' | 'meter', first: number, last: number) {
      if (last >= first) mark(kind, first, last)
    },
    /**
     * Every day reads as changed now, as after a restart: for a node that may have missed another's
     * notice (its NATS connection came back). Costs caches one fresh download.
     */
    touchAll() {
      started = Math.max(now(), lastMark + 1)
      lastMark = started
    },
    /** A batch is being written to InfluxDB, or landed: the days its readings fall on change now. One pass, two numbers per type. */
    noteReadings(records: readonly { type: string; ts: number }[]) {
      for (const w of writtenSpans(records)) mark(w.type, w.first, w.last)
    },
    noteCollection(at: number) {
      mark('collection', at, at)
    },
    /** The last change to any day in [from, to); the clock's start when none changed since. */
    changedAt(kind: ChangeKind, from: number, to: number): number {
      let latest = started
      const first = londonDayNumber(from)
      const last = londonDayNumber(to - 1)
      const map = days[kind]
      // Whichever is smaller: the days asked for, or the days known.
      if (last - first + 1 <= map.size) {
        for (let d = first; d <= last; d++) latest = Math.max(latest, map.get(d) ?? started)
      } else {
        for (const [d, at] of map) if (d >= first && d <= last) latest = Math.max(latest, at)
      }
      return latest
    },
  }
}
export type ChangeClock = ReturnType<typeof createChangeClock>
