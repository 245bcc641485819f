import { type DemoDevice, demoDevices } from './first-look-devices.ts'
import { createModel } from './models/index.ts'
import { createRng, seedFor } from './rng.ts'

const SEED = 1
const BUSY_BIN = 'demo-bin-market-place'
/** How full the busy bin is at the first start: not yet full, but it will be well before its collection. */
const BUSY_FILL_AT_ANCHOR = 0.88

export interface DemoReading {
  ts: number
  readings: Record<string, number | boolean | string>
}

export interface DemoStream {
  device: DemoDevice
  /** Readings due up to `until` (device time = simulated time, epoch ms), in order; each only once. */
  until(until: number): Generator<DemoReading>
  /** When the next tick is due. */
  readonly nextAt: number
}

/**
 * One demo device's readings: its model ticked on a fixed grid from the start of its history, as
 * the fleet ticks (four times an interval). The grid and the seed depend only on the anchor, so
 * a restart on the same data replays the very same readings and can pick up where it stopped.
 */
export function demoStream(device: DemoDevice, anchor: number): DemoStream {
  const start = anchor - device.historyMs
  const model = createModel(device.spec.type, createRng(seedFor(SEED, device.spec.id)), start, device.options)
  const step = model.intervalMs / 4
  let next = start
  return {
    device,
    get nextAt() {
      return next
    },
    *until(until) {
      while (next <= until) {
        const t = next
        next += step
        const e = model.tick(t)
        if (e?.readings) yield { ts: t, readings: e.readings }
      }
    },
  }
}

/**
 * The demo set for a first start at `anchor`, with the busy bin's starting fill worked out so it is
 * 88 % full at the anchor whatever the weekday (residential bins fill faster at weekends): a bin's
 * level grows by the same amount from any start below full, so one dry run from empty gives it.
 */
export function demoSet(anchor: number): DemoDevice[] {
  const dry = demoDevices(anchor, 0).find((d) => d.spec.id === BUSY_BIN)!
  let level = 0
  for (const r of demoStream(dry, anchor).until(anchor)) level = Number(r.readings.fillingLevel)
  return demoDevices(anchor, Math.max(0, BUSY_FILL_AT_ANCHOR - level))
}
