import type { PendingEntry } from '../store/outbox-store.ts'

interface Queue {
  /** Pending delivery ids in the order they were made; those before `head` are done. */
  ids: number[]
  dues: number[]
  head: number
}

/**
 * The sender's index of pending deliveries: per target, their ids in order and when each is due.
 * Only a target's head may be sent; which heads are due is a pass over the targets (one entry each,
 * however many deliveries a dead target has piled up).
 */
export function createTargetQueues() {
  let queues = new Map<string, Queue>()
  let maxId = 0

  const push = (e: PendingEntry) => {
    let q = queues.get(e.target)
    if (!q) {
      q = { ids: [], dues: [], head: 0 }
      queues.set(e.target, q)
    }
    q.ids.push(e.id)
    q.dues.push(e.dueMs)
    if (e.id > maxId) maxId = e.id
  }
  const headOf = (target: string, id: number) => {
    const q = queues.get(target)
    return q && q.ids[q.head] === id ? q : undefined
  }

  return {
    /** The highest id the index has seen: new deliveries are read after it. */
    lastId: () => maxId,
    /** Deliveries made since the last read, in id order. */
    add(entries: readonly PendingEntry[]) {
      for (const e of entries) if (e.id > maxId) push(e)
    },
    /** The whole index read again (ids in order). */
    replaceAll(entries: readonly PendingEntry[]) {
      const seen = maxId
      queues = new Map()
      for (const e of entries) push(e)
      maxId = Math.max(maxId, seen)
    },
    /** The head was delivered or is dead: the target's next delivery becomes its head. */
    done(target: string, id: number) {
      const q = headOf(target, id)
      if (!q) return
      q.head++
      if (q.head === q.ids.length) queues.delete(target)
      else if (q.head >= 1024 && q.head * 2 >= q.ids.length) {
        q.ids = q.ids.slice(q.head)
        q.dues = q.dues.slice(q.head)
        q.head = 0
      }
    },
    /** The head failed and waits until `dueMs`. */
    reschedule(target: string, id: number, dueMs: number) {
      const q = headOf(target, id)
      if (q) q.dues[q.head] = dueMs
    },
    /** Up to `limit` heads due by `now`, of targets not busy, earliest first (ties by id). */
    due(now: number, limit: number, busy: ReadonlyMap<string, unknown>): number[] {
      const ready: [number, number][] = []
      for (const [target, q] of queues) {
        const dueMs = q.dues[q.head]!
        if (dueMs <= now && !busy.has(target)) ready.push([dueMs, q.ids[q.head]!])
      }
      ready.sort((a, b) => a[0] - b[0] || a[1] - b[1])
      return ready.slice(0, limit).map((r) => r[1])
    },
    /** When the earliest head of a target not busy is due; null when there is none. */
    nextDue(busy: ReadonlyMap<string, unknown>): number | null {
      let next: number | null = null
      for (const [target, q] of queues) {
        const dueMs = q.dues[q.head]!
        if (!busy.has(target) && (next === null || dueMs < next)) next = dueMs
      }
      return next
    },
    size: () => queues.size,
  }
}
export type TargetQueues = ReturnType<typeof createTargetQueues>
