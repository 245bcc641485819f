import { statfs } from 'node:fs'

export interface SpaceGuard {
  start(): void
  /** Free bytes on the volume as last measured, less what was written since; null until first measured. */
  free(): number | null
  consumed(bytes: number): void
  refresh(): void
  close(): void
}

/**
 * Free space on the log's volume, measured once a second rather than per commit:
 * a statfs per batch would add a syscall to the path every PUBACK waits on.
 * `onTick` runs after each measurement, to lift a refusal when space returns.
 */
export function createSpaceGuard(dir: string, onTick: () => void, everyMs = 1_000): SpaceGuard {
  let free: number | null = null
  let timer: NodeJS.Timeout | null = null
  let measuring = false
  const measure = () => {
    if (measuring) return
    measuring = true
    statfs(dir, (err, s) => {
      measuring = false
      // An unmeasurable volume is not a full one: the write itself reports ENOSPC.
      free = err ? null : s.bavail * s.bsize
      onTick()
    })
  }
  return {
    start() {
      measure()
      timer = setInterval(measure, everyMs)
      timer.unref()
    },
    free: () => free,
    consumed(bytes) {
      if (free !== null) free -= bytes
    },
    refresh: measure,
    close() {
      if (timer) clearInterval(timer)
      timer = null
    },
  }
}
