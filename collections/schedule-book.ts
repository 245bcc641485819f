import type { Logger } from 'pino'
import { type CollectionSchedule, nextCollection } from '../devices/collections/index.ts'
import { keepInStep } from '../store/kept-in-step.ts'
import type { RoundChange, ScheduleSnapshot } from '../store/round-store.ts'

/** What the book needs of the store (the round store has it). */
export interface ScheduleSource {
  scheduleSnapshot(): Promise<ScheduleSnapshot>
  onChange?(listener: (change: RoundChange) => void): () => void
}

export interface ScheduleBook {
  /** Subscribes to changes, then loads every schedule. Call before the alert engine reads its first reading. */
  start(): Promise<void>
  /** Loads everything again (after writes this process did not see). On failure the old schedules stay. */
  reload(): Promise<void>
  /** The bin's own schedule, else its round's; null when it has neither. Map lookups only. */
  scheduleOf(deviceId: string): CollectionSchedule | null
  /** The bin's next scheduled collection strictly after t (epoch ms); null without a schedule. */
  nextCollection(deviceId: string, t: number): number | null
  close(): void
}

/**
 * Every bin's collection schedule in memory, for the forecast rule's deadline on each reading.
 * A write through the round store reaches the book synchronously through its onChange, before the
 * API answers, so a reading published after the answer meets the new schedule; writes from another
 * process need reload().
 */
export function createScheduleBook(deps: { store: ScheduleSource; log?: Logger | undefined }): ScheduleBook {
  let rounds = new Map<string, CollectionSchedule>()
  let members = new Map<string, string>()
  let own = new Map<string, CollectionSchedule>()

  const apply = (c: RoundChange) => {
    if (c.kind === 'round') {
      if (c.schedule) rounds.set(c.id, c.schedule)
      else {
        rounds.delete(c.id)
        for (const [d, r] of members) if (r === c.id) members.delete(d)
      }
    } else if (c.kind === 'bins') {
      for (const [d, r] of members) if (r === c.roundId) members.delete(d)
      for (const d of c.deviceIds) members.set(d, c.roundId)
    } else if (c.kind === 'bin-schedule') {
      if (c.schedule) own.set(c.deviceId, c.schedule)
      else own.delete(c.deviceId)
    }
  }

  const kept = keepInStep({
    subscribe: deps.store.onChange?.bind(deps.store),
    snapshot: () => deps.store.scheduleSnapshot(),
    install(s: ScheduleSnapshot) {
      rounds = s.rounds
      members = s.members
      own = s.own
      deps.log?.info({ rounds: rounds.size, bins: members.size, own: own.size }, 'collection schedules loaded')
    },
    apply,
  })

  const scheduleOf = (deviceId: string): CollectionSchedule | null => {
    const mine = own.get(deviceId)
    if (mine) return mine
    const round = members.get(deviceId)
    return (round !== undefined && rounds.get(round)) || null
  }

  return {
    start: kept.start,
    reload: kept.reload,
    scheduleOf,
    // For people (the API); the alert engine's evaluation has its own per-schedule cache on the hot path.
    nextCollection(deviceId, t) {
      const schedule = scheduleOf(deviceId)
      return schedule && Number.isFinite(t) ? nextCollection(schedule, t) : null
    },
    close: kept.close,
  }
}
