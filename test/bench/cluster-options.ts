import { parseArgs } from 'node:util'

/** `npm run bench -- --cluster`: one node against a three-node cluster (cluster-main.ts). */
export interface ClusterBenchOptions {
  rounds: number
  /** Seconds of the measured load. */
  seconds: number
  /** Devices, one MQTT connection each, spread over the nodes in B. */
  devices: number
  /** Readings/s of the load, in total, QoS 1. */
  rate: number
  /** CLUSTER_PARTITIONS of the cluster's nodes. */
  partitions: number
  /** Seconds of warm-up (half the rate) before the measured load. */
  warmSeconds: number
  /** Seconds of idle CPU measured after the warm-up, before the load. */
  idleSeconds: number
  /** Cores per node the capacity model states its node counts for. */
  cores: number[]
  /** The share of a node's cores the capacity model allows for readings, 0…1. */
  utilisation: number
  quick: boolean
}

// Each B round starts 3 nats-servers, redis and 3 nodes (about 20 s) besides the load: about 6 minutes in all.
const FULL = { rounds: 3, seconds: 20, devices: 300, rate: 1000, partitions: 12, 'warm-seconds': 3, 'idle-seconds': 5 }
// Quick: the same shape, rough figures, about 2 minutes.
const QUICK = { rounds: 2, seconds: 5, devices: 60, rate: 500, partitions: 12, 'warm-seconds': 2, 'idle-seconds': 2 }

export const CLUSTER_USAGE = `usage: npm run bench -- --cluster [--quick] [--rounds N] [--seconds S] [--devices N] [--rate R]
                           [--partitions P] [--cores 4,8] [--utilisation 0.5]
  One node (A: the default config, SQLite, local log) against a three-node cluster on loopback (B: 3 service
  processes, 3 nats-servers, redis-server, PostgreSQL), in alternating rounds under the same load; CPU per
  acknowledged reading of every process of each path, and a capacity model from it. Writes
  bench-cluster-results.json and bench-cluster-results.md.
  --rounds N          rounds, the order alternating A B, B A, … (default ${FULL.rounds})
  --quick             ${QUICK.rounds} rounds of ${QUICK.seconds} s at ${QUICK.rate} readings/s from ${QUICK.devices} devices; rough figures
  --seconds S         seconds of measured load (default ${FULL.seconds})
  --devices N         devices, one connection each, spread over the nodes in B (default ${FULL.devices})
  --rate R            readings/s, QoS 1, in total (default ${FULL.rate})
  --partitions P      CLUSTER_PARTITIONS of the cluster (default ${FULL.partitions})
  --warm-seconds S    warm-up at half the rate before each measurement (default ${FULL['warm-seconds']})
  --idle-seconds S    idle CPU measured after the warm-up (default ${FULL['idle-seconds']})
  --cores LIST        cores per node for the capacity model (default 4,8)
  --utilisation U     share of those cores the model lets readings use (default 0.5)`

export function parseClusterOptions(argv: string[]): ClusterBenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      cluster: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      seconds: { type: 'string' },
      devices: { type: 'string' },
      rate: { type: 'string' },
      partitions: { type: 'string' },
      'warm-seconds': { type: 'string' },
      'idle-seconds': { type: 'string' },
      cores: { type: 'string' },
      utilisation: { type: 'string' },
    },
  })
  if (values.help) {
    process.stdout.write(`${CLUSTER_USAGE}\n`)
    process.exit(0)
  }
  const preset = values.quick ? QUICK : FULL
  const num = (name: keyof typeof FULL, min: number) => {
    const raw = values[name]
    const n = raw === undefined ? preset[name] : Number(raw)
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min} (got ${raw})\n${CLUSTER_USAGE}`)
    return n
  }
  const cores = (values.cores ?? '4,8').split(',').map(Number)
  if (cores.length === 0 || cores.some((c) => !Number.isInteger(c) || c < 1))
    throw new Error(`--cores must be a comma-separated list of whole numbers >= 1 (got ${values.cores})\n${CLUSTER_USAGE}`)
  const utilisation = Number(values.utilisation ?? 0.5)
  if (!(utilisation > 0 && utilisation <= 1))
    throw new Error(`--utilisation must be in (0, 1] (got ${values.utilisation})\n${CLUSTER_USAGE}`)
  return {
    rounds: Math.round(num('rounds', 1)),
    seconds: num('seconds', 1),
    devices: Math.round(num('devices', 3)),
    rate: num('rate', 1),
    partitions: Math.round(num('partitions', 3)),
    warmSeconds: num('warm-seconds', 0),
    idleSeconds: num('idle-seconds', 1),
    cores,
    utilisation,
    quick: values.quick ?? false,
  }
}
