import { parseArgs } from 'node:util'
import { type ClusterBenchOptions, parseClusterOptions } from './cluster-options.ts'

/** The rate the latency targets are stated at. */
export const FIXED_RATE = 2000

export interface BenchOptions {
  rounds: number
  seconds: number
  devices: number
  backlog: number
  overload: number
  scale: number
  scaleSeconds: number
  /** A git ref whose service runs as one more path in the same rounds. */
  baseline: string | null
  quick: boolean
  /** Skip the phases that run once (overload, durable accept off, drain, scale). */
  roundsOnly: boolean
  /** `--outbox`: the webhook outbox benchmark instead (outbox-main.ts); null for the main one. */
  outbox: OutboxBenchOptions | null
  /** `--cluster`: one node against a three-node cluster instead (cluster-main.ts); null for the main one. */
  cluster: ClusterBenchOptions | null
}

export interface OutboxBenchOptions {
  rounds: number
  seconds: number
  /** Bins carrying the fixed load. */
  devices: number
  /** Readings/s of the fixed load, in total. */
  rate: number
  subscriptions: number
  /** Bins that tip over and stand up again (each transition is one event for every subscription). */
  alertDevices: number
  /** Each alert bin's interval between readings, ms. */
  alertEveryMs: number
}

// Full defaults keep `npm run bench` near 7 minutes (about 9 with --baseline) on two cores.
const FULL = { rounds: 3, seconds: 10, devices: 50, backlog: 100_000, overload: 60, scale: 10_000, 'scale-seconds': 30 }
// Quick: every phase runs, figures are rough; for checking a change end to end in about 2 minutes.
const QUICK = { rounds: 3, seconds: 3, devices: 10, backlog: 5_000, overload: 5, scale: 500, 'scale-seconds': 5 }
// --outbox: each run about 40 s, 9 runs (3 variants x 3 rounds) about 6 minutes.
const OUTBOX = { rounds: 3, seconds: 20, devices: 50, rate: 1000, subscriptions: 500, 'alert-devices': 2, 'alert-every-ms': 1000 }
const OUTBOX_QUICK = { ...OUTBOX, seconds: 5, devices: 10, rate: 500, subscriptions: 100 }

export const USAGE = `usage: npm run bench -- [--quick] [--rounds N] [--baseline <git-ref>] [--rounds-only]
                           [--seconds S] [--devices N] [--overload S] [--backlog N] [--scale N] [--scale-seconds S]
       npm run bench -- --outbox [--quick] [--rounds N] [--seconds S] [--devices N] [--rate R]
                           [--subscriptions N] [--alert-devices N] [--alert-every-ms MS]
  --rounds N          rounds over the paths, alternating their order (default ${FULL.rounds})
  --baseline REF      also run the service of an older commit (exported to a temp dir) in every round
  --quick             short phases and small sizes (${QUICK.seconds} s, ${QUICK.devices} connections); rough figures
  --rounds-only       skip overload, durable accept off, drain and scale (they run once, for this checkout)
  --seconds S         seconds per measured phase (default ${FULL.seconds})
  --devices N         publisher connections per path, at least 3 (default ${FULL.devices})
  --overload S        seconds of 2x overload, 0 to skip (default ${FULL.overload})
  --backlog N         readings queued during the InfluxDB outage, 0 to skip (default ${FULL.backlog})
  --scale N           connected devices for the scale phase, 0 to skip (default ${FULL.scale})
  --scale-seconds S   seconds the scale phase measures (default ${FULL['scale-seconds']})
  --outbox            the webhook outbox benchmark instead: ingest and deliveries with no subscriptions (A),
                      ${OUTBOX.subscriptions} healthy ones (B), and the same with one target a black hole (C); writes
                      bench-outbox-results.json. Its defaults: ${OUTBOX.rounds} rounds of ${OUTBOX.seconds} s, ${OUTBOX.devices} bins at ${OUTBOX.rate} readings/s
  --rate R            (--outbox) readings/s of the fixed load (default ${OUTBOX.rate})
  --subscriptions N   (--outbox) webhook subscriptions in B and C (default ${OUTBOX.subscriptions})
  --alert-devices N   (--outbox) bins that tip over and stand up, raising and clearing alerts (default ${OUTBOX['alert-devices']})
  --alert-every-ms MS (--outbox) each such bin's interval between readings (default ${OUTBOX['alert-every-ms']})
       npm run bench -- --cluster [--quick] …   one node against a three-node cluster; --cluster --help for its options`

export function parseBenchOptions(argv: string[]): BenchOptions {
  // --cluster has options of its own (cluster-options.ts).
  if (argv.includes('--cluster')) return { ...parseBenchOptions([]), cluster: parseClusterOptions(argv) }
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      'rounds-only': { type: 'boolean', default: false },
      baseline: { type: 'string' },
      help: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      seconds: { type: 'string' },
      devices: { type: 'string' },
      backlog: { type: 'string' },
      overload: { type: 'string' },
      scale: { type: 'string' },
      'scale-seconds': { type: 'string' },
      outbox: { type: 'boolean', default: false },
      rate: { type: 'string' },
      subscriptions: { type: 'string' },
      'alert-devices': { type: 'string' },
      'alert-every-ms': { type: 'string' },
    },
  })
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    process.exit(0)
  }
  const preset = values.quick ? QUICK : FULL
  // An explicit option wins over the preset, so `--quick --rounds 5` means what it says.
  const numOf = <K extends string>(p: Record<K, number>, name: K & keyof typeof values, min: number) => {
    const raw = values[name]
    const n = raw === undefined ? p[name] : Number(raw)
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min} (got ${raw})\n${USAGE}`)
    return n
  }
  const num = (name: keyof typeof FULL, min: number) => numOf(preset, name, min)
  const ob = values.quick ? OUTBOX_QUICK : OUTBOX
  const outboxOnly = (['rate', 'subscriptions', 'alert-devices', 'alert-every-ms'] as const).filter((k) => values[k] !== undefined)
  if (!values.outbox && outboxOnly.length > 0) throw new Error(`--${outboxOnly[0]} goes with --outbox\n${USAGE}`)
  const outbox: OutboxBenchOptions | null = values.outbox
    ? {
        rounds: Math.round(numOf(ob, 'rounds', 1)),
        seconds: numOf(ob, 'seconds', 1),
        devices: Math.round(numOf(ob, 'devices', 1)),
        rate: numOf(ob, 'rate', 1),
        subscriptions: Math.round(numOf(ob, 'subscriptions', 2)),
        alertDevices: Math.round(numOf(ob, 'alert-devices', 1)),
        alertEveryMs: numOf(ob, 'alert-every-ms', 10),
      }
    : null
  return {
    rounds: Math.round(num('rounds', 1)),
    seconds: num('seconds', 1),
    // Two connections carry the latency probes; the fixed load needs at least one more.
    devices: Math.round(num('devices', 3)),
    backlog: Math.round(num('backlog', 0)),
    overload: num('overload', 0),
    scale: Math.round(num('scale', 0)),
    scaleSeconds: num('scale-seconds', 1),
    baseline: values.baseline ?? null,
    quick: values.quick ?? false,
    roundsOnly: values['rounds-only'] ?? false,
    outbox,
    cluster: null,
  }
}
