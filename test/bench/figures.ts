import { FIXED_RATE } from './options.ts'
import type { PathRound } from './round.ts'

/** One row of the rounds table: how to read it off a round, and how to print it. */
export interface Figure {
  key: string
  label: string
  digits: number
  pick(r: PathRound): number | null
  /** Summed over rounds instead of summarised: any loss at all is the finding. */
  total?: boolean
}

export interface FigureGroup {
  title: string
  figures: Figure[]
}

const rate = FIXED_RATE.toLocaleString('en-GB')

export const FIGURE_GROUPS: FigureGroup[] = [
  {
    title: 'max rate (closed loop, 20 readings in flight per connection)',
    figures: [
      { key: 'maxAccepted', label: 'accepted readings/s (PUBACK)', digits: 0, pick: (r) => r.max.accepted },
      { key: 'maxConfirmed', label: 'readings/s, QoS 1 publish → confirmed in InfluxDB', digits: 0, pick: (r) => r.max.confirmed },
      { key: 'maxPubackP99', label: 'publish→PUBACK p99 at max, ms', digits: 1, pick: (r) => r.max.pubackP99 },
    ],
  },
  {
    title: `fixed ${rate} readings/s`,
    figures: [
      { key: 'fixedAccepted', label: `readings/s accepted of ${rate} offered`, digits: 0, pick: (r) => r.fixed.accepted },
      { key: 'pubackP50', label: 'publish→PUBACK p50, ms', digits: 1, pick: (r) => r.fixed.pubackP50 },
      { key: 'pubackP99', label: 'publish→PUBACK p99, ms', digits: 1, pick: (r) => r.fixed.pubackP99 },
      { key: 'visibleP50', label: 'publish→visible in InfluxDB p50, ms', digits: 1, pick: (r) => r.fixed.visibleP50 },
      { key: 'visibleP99', label: 'publish→visible in InfluxDB p99, ms', digits: 1, pick: (r) => r.fixed.visibleP99 },
      { key: 'alertP50', label: 'publish→alert on Socket.IO p50, ms', digits: 1, pick: (r) => r.fixed.alertP50 },
      { key: 'alertP99', label: 'publish→alert on Socket.IO p99, ms', digits: 1, pick: (r) => r.fixed.alertP99 },
      {
        key: 'alertsMissing',
        label: 'alerts that did not arrive (sum over rounds)',
        digits: 0,
        pick: (r) => (r.fixed.alertSent === null ? null : r.fixed.alertSent - r.fixed.alertSamples!),
        total: true,
      },
      { key: 'cpuPer1000', label: 'CPU-s per 1,000 readings (service / broker+subscriber)', digits: 3, pick: (r) => r.fixed.cpuPer1000 },
    ],
  },
  {
    title: 'both phases',
    figures: [{ key: 'lost', label: 'acknowledged but not in InfluxDB (sum over rounds)', digits: 0, pick: (r) => r.lost, total: true }],
  },
]

export const FIGURES: Figure[] = FIGURE_GROUPS.flatMap((g) => g.figures)
