import { Gauge, type Registry } from 'prom-client'
import type { Drainer } from './drainer.ts'
import type { Spool } from './spool.ts'

export function spoolMetrics(register: Registry, spool: Spool, drainer: Drainer) {
  new Gauge({
    name: 'sp_spool_bytes',
    help: 'Accepted readings not yet confirmed by InfluxDB, in bytes of line protocol',
    registers: [register],
    collect() {
      this.set(spool.stats().bytes)
    },
  })
  new Gauge({
    name: 'sp_spool_oldest_seconds',
    help: 'Age of the oldest reading waiting in the spool',
    registers: [register],
    collect() {
      this.set((spool.stats().oldestMs ?? 0) / 1000)
    },
  })
  new Gauge({
    name: 'sp_influx_healthy',
    help: '1 when the last InfluxDB write succeeded',
    registers: [register],
    collect() {
      this.set(drainer.healthy ? 1 : 0)
    },
  })
}
