import { parseArgs } from 'node:util'

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
}

// Full defaults keep `npm run bench` near 7 minutes (about 9 with --baseline) on two cores.
const FULL = { rounds: 3, seconds: 10, devices: 50, backlog: 100_000, overload: 60, scale: 10_000, 'scale-seconds': 30 }
// Quick: every phase runs, figures are rough; for checking a change end to end in about 2 minutes.
const QUICK = { rounds: 3, seconds: 3, devices: 10, backlog: 5_000, overload: 5, scale: 500, 'scale-seconds': 5 }

export const USAGE = `usage: npm run bench -- [--quick] [--rounds N] [--baseline <git-ref>] [--rounds-only]
                           [--seconds S] [--devices N] [--overload S] [--backlog N] [--scale N] [--scale-seconds S]
  --rounds N          rounds over the paths, alternating their order (default ${FULL.rounds})
  --baseline REF      also run the service of an older commit (exported to a temp dir) in every round
  --quick             short phases and small sizes (${QUICK.seconds} s, ${QUICK.devices} connections); rough figures
  --rounds-only       skip overload, durable accept off, drain and scale (they run once, for this checkout)
  --seconds S         seconds per measured phase (default ${FULL.seconds})
  --devices N         publisher connections per path, at least 3 (default ${FULL.devices})
  --overload S        seconds of 2x overload, 0 to skip (default ${FULL.overload})
  --backlog N         readings queued during the InfluxDB outage, 0 to skip (default ${FULL.backlog})
  --scale N           connected devices for the scale phase, 0 to skip (default ${FULL.scale})
  --scale-seconds S   seconds the scale phase measures (default ${FULL['scale-seconds']})`

export function parseBenchOptions(argv: string[]): BenchOptions {
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
    },
  })
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    process.exit(0)
  }
  const preset = values.quick ? QUICK : FULL
  // An explicit option wins over the preset, so `--quick --rounds 5` means what it says.
  const num = (name: keyof typeof FULL, min: number) => {
    const raw = values[name]
    const n = raw === undefined ? preset[name] : Number(raw)
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min} (got ${raw})\n${USAGE}`)
    return n
  }
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
  }
}
