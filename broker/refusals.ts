import type { Logger } from 'pino'
import type { BrokerMetrics } from './metrics.ts'

export interface Refusals {
  /** Counts a refused connection, packet or subscription and logs it, at most one line per reason per window. */
  refuse(reason: string, detail?: Record<string, unknown>): void
  /** Logs what is still suppressed and stops the timers. */
  close(): void
}

interface Window {
  until: number
  suppressed: number
  timer: NodeJS.Timeout | null
}

/**
 * Every refusal is counted in sp_mqtt_refused_total{reason}; the log gets the first
 * of each reason, then nothing more for that reason until `windowMs` has passed,
 * when one line says how many were left out. A flood of bad packets costs the
 * counter, not the disk.
 */
export function createRefusals(metrics: Pick<BrokerMetrics, 'refused'>, log: Logger, windowMs = 10_000, now = Date.now): Refusals {
  const windows = new Map<string, Window>()

  const flush = (reason: string, w: Window) => {
    w.timer = null
    if (w.suppressed === 0) {
      windows.delete(reason)
      return
    }
    log.warn({ reason, suppressed: w.suppressed, windowMs }, 'mqtt refused (more of the same)')
    // A new window starts: a flood that goes on is summed up once per window.
    w.suppressed = 0
    w.until = now() + windowMs
    w.timer = setTimeout(() => flush(reason, w), windowMs).unref()
  }

  return {
    refuse(reason, detail) {
      metrics.refused.inc({ reason })
      const t = now()
      const w = windows.get(reason)
      if (w && t < w.until) {
        w.suppressed++
        if (!w.timer) w.timer = setTimeout(() => flush(reason, w), w.until - t).unref()
        return
      }
      if (w?.timer) clearTimeout(w.timer)
      windows.set(reason, { until: t + windowMs, suppressed: 0, timer: null })
      // A late timer may not have reported the last window yet; its count rides on this line.
      log.warn(w?.suppressed ? { reason, ...detail, suppressed: w.suppressed } : { reason, ...detail }, 'mqtt refused')
    },
    close() {
      for (const [reason, w] of windows) {
        if (w.timer) clearTimeout(w.timer)
        if (w.suppressed > 0) log.warn({ reason, suppressed: w.suppressed, windowMs }, 'mqtt refused (more of the same)')
      }
      windows.clear()
    },
  }
}
