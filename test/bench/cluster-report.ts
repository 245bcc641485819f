import type { ClusterBenchOptions } from './cluster-options.ts'
import { type ClusterPath, type ClusterRound, enginesOf } from './cluster-run.ts'
import { cell } from './outbox-report.ts'
import { ratio, type Spread, spread } from './stats.ts'
import { type Row, renderTable } from './table.ts'

interface Figure {
  key: string
  label: string
  digits: number
  pick(r: ClusterRound): number | null
  /** Summed over rounds: any at all is the finding. */
  total?: boolean
  /** Also the ratio B/A of the medians, with the per-round range. */
  ratio?: boolean
}

const FIGURES: (Figure | { title: string })[] = [
  { title: 'load and correctness' },
  { key: 'sent', label: 'readings sent', digits: 0, pick: (r) => r.sent, total: true },
  { key: 'acked', label: 'readings acknowledged (PUBACK)', digits: 0, pick: (r) => r.acked, total: true },
  { key: 'landed', label: 'readings landed in InfluxDB', digits: 0, pick: (r) => r.landed, total: true },
  { key: 'lost', label: 'acknowledged, not in InfluxDB (lost)', digits: 0, pick: (r) => r.lost, total: true },
  { key: 'late', label: 'acknowledged, in InfluxDB only after a 15 s stall', digits: 0, pick: (r) => r.late, total: true },
  { key: 'unacked', label: 'sent, no PUBACK within 30 s of the load end', digits: 0, pick: (r) => r.sent - r.acked, total: true },
  { key: 'closed', label: 'device connections closed during the load', digits: 0, pick: (r) => r.closed ?? null, total: true },
  { key: 'rate', label: 'readings/s acknowledged (load start → last PUBACK)', digits: 0, pick: (r) => r.ackedPerS },
  { key: 'p50', label: 'publish→PUBACK p50, ms', digits: 2, pick: (r) => r.pubackP50, ratio: true },
  { key: 'p99', label: 'publish→PUBACK p99, ms', digits: 2, pick: (r) => r.pubackP99, ratio: true },
  { key: 'settle', label: 'load end → all in InfluxDB, s', digits: 1, pick: (r) => r.settleS },
  { key: 'window', label: 'CPU window (load + settle), s', digits: 1, pick: (r) => r.windowS },
  { title: 'CPU seconds in the window, by process group' },
  { key: 'cpuSvc', label: 'service process(es)', digits: 2, pick: (r) => r.cpuS.services },
  { key: 'cpuNats', label: 'nats-server ×3', digits: 2, pick: (r) => r.cpuS.nats },
  { key: 'cpuRedis', label: 'redis-server', digits: 2, pick: (r) => r.cpuS.redis },
  { key: 'cpuPg', label: 'PostgreSQL (postmaster + backends)', digits: 2, pick: (r) => r.cpuS.postgres },
  { title: 'CPU ms per acknowledged reading' },
  { key: 'msSvc', label: 'services', digits: 3, pick: (r) => r.msPerReading.services, ratio: true },
  { key: 'msEng', label: 'engines (NATS + Redis + PostgreSQL)', digits: 3, pick: (r) => r.msPerReading.engines },
  { key: 'msAll', label: 'services + engines', digits: 3, pick: (r) => r.msPerReading.servicesEngines, ratio: true },
  { key: 'netSvc', label: 'services, less idle', digits: 3, pick: (r) => r.netMsPerReading.services, ratio: true },
  { key: 'netAll', label: 'services + engines, less idle', digits: 3, pick: (r) => r.netMsPerReading.servicesEngines, ratio: true },
  { title: 'idle, before the load: CPU ms per second' },
  { key: 'idleSvc', label: 'services', digits: 1, pick: (r) => r.idleMsPerS.services },
  { key: 'idleNats', label: 'nats-server ×3', digits: 1, pick: (r) => r.idleMsPerS.nats },
  { key: 'idleRedis', label: 'redis-server', digits: 1, pick: (r) => r.idleMsPerS.redis },
  { key: 'idlePg', label: 'PostgreSQL', digits: 1, pick: (r) => r.idleMsPerS.postgres },
  { key: 'idleAll', label: 'services + engines', digits: 1, pick: (r) => r.idleMsPerS.services + (enginesOf(r.idleMsPerS) ?? 0) },
  { title: 'apart (not in the figures above)' },
  { key: 'msInflux', label: 'influxd (shared), CPU ms per reading', digits: 3, pick: (r) => r.msPerReading.influxd },
  { key: 'msLoad', label: 'load generator (the bench), CPU ms per reading', digits: 3, pick: (r) => r.msPerReading.loadgen },
  { key: 'other', label: 'other processes on the host, CPU-s in the window (noise)', digits: 1, pick: (r) => r.otherCpuS ?? null },
  { key: 'start', label: 'path start-up, s', digits: 1, pick: (r) => r.startS },
]

const PATHS: ClusterPath[] = ['A', 'B']

function series(rounds: ClusterRound[], p: ClusterPath, pick: Figure['pick'], n: number): (number | null)[] {
  const out: (number | null)[] = Array.from({ length: n }, () => null)
  for (const r of rounds) if (r.path === p) out[r.round - 1] = pick(r)
  return out
}

export interface ClusterSummary {
  rows: (
    | { title: string }
    | {
        key: string
        label: string
        digits: number
        byPath: Record<ClusterPath, Spread | number | null>
        ratio: ReturnType<typeof ratio> | null
      }
  )[]
  /** Medians used by the capacity model, ms of CPU per acknowledged reading. */
  msA: number | null
  msBServices: number | null
  msB: number | null
  /** Less idle: the marginal cost of a reading. */
  netA: number | null
  netB: number | null
  /** Idle CPU ms per second, the whole path (B: services and engines). */
  idleA: number | null
  idleB: number | null
  lost: number
  /** Of the load, readings sent that neither path acknowledged. */
  unacked: Record<ClusterPath, number>
}

export function summariseCluster(rounds: ClusterRound[], n: number): ClusterSummary {
  const rows = FIGURES.map((f) => {
    if ('title' in f) return f
    const byPath = {} as Record<ClusterPath, Spread | number | null>
    for (const p of PATHS) {
      const xs = series(rounds, p, f.pick, n)
      byPath[p] = f.total ? (xs.every((x) => x === null) ? null : xs.reduce<number>((a, x) => a + (x ?? 0), 0)) : spread(xs)
    }
    return {
      key: f.key,
      label: f.label,
      digits: f.digits,
      byPath,
      ratio: f.ratio ? ratio(series(rounds, 'B', f.pick, n), series(rounds, 'A', f.pick, n)) : null,
    }
  })
  const med = (p: ClusterPath, pick: Figure['pick']) => spread(series(rounds, p, pick, n))?.median ?? null
  const unacked = { A: 0, B: 0 }
  for (const r of rounds) unacked[r.path] += r.sent - r.acked
  return {
    rows,
    msA: med('A', (r) => r.msPerReading.services),
    msBServices: med('B', (r) => r.msPerReading.services),
    msB: med('B', (r) => r.msPerReading.servicesEngines),
    netA: med('A', (r) => r.netMsPerReading.services),
    netB: med('B', (r) => r.netMsPerReading.servicesEngines),
    idleA: med('A', (r) => r.idleMsPerS.services),
    idleB: med('B', (r) => r.idleMsPerS.services + (enginesOf(r.idleMsPerS) ?? 0)),
    lost: rounds.reduce((a, r) => a + r.lost, 0),
    unacked,
  }
}

const fmt = (x: number, d: number) => x.toLocaleString('en-GB', { minimumFractionDigits: d, maximumFractionDigits: d })

function ratioCell(r: ReturnType<typeof ratio> | null): string {
  if (!r) return ''
  const pr = r.perRound
  return pr && pr.n > 1 ? `${r.ofMedians.toFixed(2)} [${pr.min.toFixed(2)}–${pr.max.toFixed(2)}]` : r.ofMedians.toFixed(2)
}

/** 1 million devices, one reading every 15 minutes. */
export const TARGET_PER_S = 1_000_000 / (15 * 60)

/** The capacity model's lines, from the medians; linear in the readings/s, nothing else. */
export function capacityModel(s: ClusterSummary, opt: ClusterBenchOptions): string[] {
  if (s.msA === null || s.msB === null) return ['capacity model: no figures (a path produced no rounds)']
  const u = opt.utilisation
  const pct = `${Math.round(u * 100)} %`
  const R = TARGET_PER_S
  const perCore = (ms: number) => 1000 / ms
  const f = (x: number | null, d: number) => (x === null || !Number.isFinite(x) ? '–' : fmt(x, d))
  const nodesB = (perNode: number) =>
    perNode <= 0 ? 'none: idle cost alone is over the allowance' : `${Math.max(3, Math.ceil(R / perNode))} (${fmt(R / perNode, 2)} by CPU)`
  const oneA = (perNode: number) =>
    perNode <= 0 ? 'no' : perNode >= R ? `yes, at ${fmt((R / perNode) * 100, 0)} % of it` : `no: ${fmt(R / perNode, 1)}× this node`
  const lines = [
    `capacity model: linear extrapolation of the medians above from one 2-core loopback run (see the caveats)`,
    `  target: 1,000,000 devices × 1 reading / 15 min = ${fmt(R, 0)} readings/s; allowance: ${pct} of each node's cores`,
    `  B: each node runs one service and one nats-server; Redis's and PostgreSQL's share is spread over the nodes;`,
    `     at least 3 nodes, for the stream's 3 replicas (a NATS quorum). A: one node, it cannot add nodes.`,
    '',
    `  1. gross: all CPU in the window per acknowledged reading (idle included, at the bench's ${fmt(opt.rate, 0)} readings/s)`,
    `     A ${fmt(s.msA, 3)} ms → a core sustains ${fmt(perCore(s.msA), 0)} readings/s`,
    `     B ${fmt(s.msB, 3)} ms (3 services + 3 NATS replicas + Redis + PostgreSQL) → a core sustains ${fmt(perCore(s.msB), 0)} readings/s,`,
    `       wherever in the cluster it is (services alone ${f(s.msBServices, 3)} ms → ${f(s.msBServices === null ? null : perCore(s.msBServices), 0)} readings/s)`,
    `     cores busy at the target: A ${fmt((R * s.msA) / 1000, 2)}, B ${fmt((R * s.msB) / 1000, 2)}`,
  ]
  const gross: Row[] = [['cores/node', 'A readings/s per node', 'A: one node enough?', 'B readings/s per node', 'B nodes needed']]
  for (const n of opt.cores) {
    const a = n * u * perCore(s.msA)
    const b = n * u * perCore(s.msB)
    gross.push([String(n), fmt(a, 0), oneA(a), fmt(b, 0), nodesB(b)])
  }
  const out = [...lines, renderTable(gross, '     ')]
  if (s.netA !== null && s.netB !== null && s.idleA !== null && s.idleB !== null) {
    const idleNodeB = s.idleB / 3
    out.push(
      '',
      '  2. fixed + marginal: idle CPU per node, plus the CPU per reading less idle (the gross figure spreads',
      "     the idle cost over the bench's rate; this one does not depend on it)",
      `     A: ${fmt(s.idleA, 0)} ms/s idle + ${fmt(s.netA, 3)} ms per reading`,
      `     B: ${fmt(idleNodeB, 0)} ms/s idle per node (${fmt(s.idleB, 0)} for the three) + ${fmt(s.netB, 3)} ms per reading`,
    )
    const fm: Row[] = [['cores/node', 'A readings/s per node', 'A: one node enough?', 'B readings/s per node', 'B nodes needed']]
    for (const n of opt.cores) {
      const a = (n * u * 1000 - s.idleA) / s.netA
      const b = (n * u * 1000 - idleNodeB) / s.netB
      fm.push([String(n), fmt(a, 0), oneA(a), fmt(b, 0), nodesB(b)])
    }
    out.push(renderTable(fm, '     '))
  }
  out.push(
    '',
    '  caveats: every process (the load generator and influxd too) shares the same two cores, so B, with eight',
    '  processes, pays more for contention than A; one offered rate only; loopback, so no network round trips',
    '  for the replication or TLS; PostgreSQL runs with fsync off; three nodes only, so what grows with the node',
    '  count (Redis fan-out to every node, lease and heartbeat traffic) is not measured; influxd is left out of',
    `  both paths (reported apart). CPU only, at ${pct}: memory, disk and network are not modelled.`,
  )
  return out
}

export function renderClusterReport(o: {
  opt: ClusterBenchOptions
  orders: string[][]
  summary: ClusterSummary
  rounds: ClusterRound[]
  tookS: number
  host: string
}): string {
  const { opt, summary } = o
  const head = [
    `smartplace cluster benchmark: ${opt.rounds} round${opt.rounds === 1 ? '' : 's'} (order ${o.orders.map((x) => x.join(' ')).join(', ')}), median [min–max]; totals over rounds where marked Σ`,
    `  load: ${fmt(opt.rate, 0)} readings/s QoS 1 from ${opt.devices} devices (one connection each) for ${opt.seconds} s, after ${opt.warmSeconds} s warm-up at half the rate`,
    '  A (old): one node, the default config (SQLite registry, local log)',
    `  B (new): three nodes in cluster mode on loopback (CLUSTER_PARTITIONS ${opt.partitions}, 3 JetStream replicas), devices spread over them`,
    '           + 3 nats-servers, 1 redis-server, PostgreSQL (fsync off); influxd shared by A and B and reported apart',
    `  host: ${o.host}`,
    '',
  ]
  const rows: Row[] = [['', 'A: one node', 'B: cluster', 'B/A [per round]']]
  for (const r of summary.rows) {
    if ('title' in r) {
      rows.push({ title: '' }, { title: r.title })
      continue
    }
    const fig = FIGURES.find((f) => 'key' in f && f.key === r.key) as Figure
    rows.push([fig.total ? `${r.label} (Σ)` : r.label, ...PATHS.map((p) => cell(r.byPath[p], r.digits)), ratioCell(r.ratio)])
  }
  return [
    ...head,
    renderTable(rows),
    '',
    `acknowledged readings lost (every round): A ${lostOf(summary, 'A')}, B ${lostOf(summary, 'B')}`,
    ...notes(o.rounds),
    '',
    ...capacityModel(summary, opt),
    '',
    `took ${Math.round(o.tookS)} s`,
    '',
  ].join('\n')
}

/** Rounds that did not keep up with the offered load, and what their nodes logged about it. */
function notes(rounds: ClusterRound[]): string[] {
  const out: string[] = []
  for (const p of PATHS) {
    const behind = rounds.filter((r) => r.path === p && (r.sent > r.acked || r.lost > 0 || r.late > 0))
    if (behind.length === 0) continue
    out.push(
      `note: ${p} did not keep up in round${behind.length === 1 ? '' : 's'} ${behind.map((r) => r.round).join(', ')} ` +
        `(${behind.map((r) => `r${r.round}: ${r.sent - r.acked} without PUBACK, ${Math.max(0, r.landed - r.acked)} of them landed, ${r.lost} lost`).join('; ')});`,
      '  its CPU figures there are from a saturated host. What its nodes logged at warn or above (counted):',
    )
    const counts: Record<string, number> = {}
    for (const r of behind) for (const [k, n] of Object.entries(r.diagnostics?.warnings ?? {})) counts[k] = (counts[k] ?? 0) + n
    for (const [k, n] of Object.entries(counts).sort((a, b) => b[1] - a[1])) out.push(`    ${String(n).padStart(5)}  ${k}`)
  }
  return out
}

function lostOf(s: ClusterSummary, p: ClusterPath): number {
  const row = s.rows.find((r) => 'key' in r && r.key === 'lost')
  const v = row && 'byPath' in row ? row.byPath[p] : null
  return typeof v === 'number' ? v : 0
}
