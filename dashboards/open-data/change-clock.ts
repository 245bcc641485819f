import { londonDayNumber } from '#devices'

/** What an open dataset's rows are made of and may change under it. */
export type ChangeKind = 'bin' | 'meter' | 'collection'

/**
 * When each London day of readings or collections last changed, by this process's clock: the
 * InfluxDB writer notes each batch it lands, the round store each collection. A late reading (a
 * device catching up after an outage) changes an old day's aggregates without being the newest
 * point, so a version made from the newest point would let a cache keep stale rows; this cannot.
 * Held in memory: after a restart every day reads as changed at the start, which only costs caches
 * one fresh download. In-process, as the single-node writer is (a cluster would keep it beside the log's readers).
 */
export function createChangeClock(now: () => number = Date.now) {
  const started = now()
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
    /** A batch is being written to InfluxDB, or landed: the days its readings fall on change now. One pass, two numbers per type. */
    noteReadings(records: readonly { type: string; ts: number }[]) {
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
      if (binLast >= binFirst) mark('bin', binFirst, binLast)
      if (meterLast >= meterFirst) mark('meter', meterFirst, meterLast)
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
