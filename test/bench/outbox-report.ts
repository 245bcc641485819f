import type { OutboxBenchOptions } from './options.ts'
import type { OutboxRound, Variant } from './outbox-run.ts'
import { ratio, type Spread, spread } from './stats.ts'
import { type Row, renderTable } from './table.ts'

interface Figure {
  key: string
  label: string
  digits: number
  pick(r: OutboxRound): number | null
  /** Summed over rounds: any at all is the finding. */
  total?: boolean
}

const FIGURES: Figure[] = [
  { key: 'pubackP50', label: 'ingest: publish→PUBACK p50, ms', digits: 2, pick: (r) => r.ingest.pubackP50 },
  { key: 'pubackP99', label: 'ingest: publish→PUBACK p99, ms', digits: 2, pick: (r) => r.ingest.pubackP99 },
  { key: 'ingestRate', label: 'ingest: readings/s acknowledged', digits: 0, pick: (r) => r.ingest.perSecond },
  { key: 'events', label: 'alert events made', digits: 0, pick: (r) => r.alerts.events },
  {
    key: 'offered',
    label: 'deliveries/s asked for (events × targets 1…N-1 / load s)',
    digits: 0,
    pick: (r) => r.delivery?.offeredPerS ?? null,
  },
  { key: 'duringLoad', label: 'deliveries/s to targets 1…N-1 during the load', digits: 0, pick: (r) => r.delivery?.duringLoadPerS ?? null },
  {
    key: 'toDrain',
    label: 'deliveries/s to targets 1…N-1, first event → drained',
    digits: 0,
    pick: (r) => r.delivery?.toDrainPerS ?? null,
  },
  { key: 'drainS', label: 'drained, s after the load ended', digits: 1, pick: (r) => r.delivery?.drainS ?? null },
  { key: 'lagP50', label: 'reading → delivered p50, ms', digits: 0, pick: (r) => r.delivery?.lagP50 ?? null },
  { key: 'lagP99', label: 'reading → delivered p99, ms', digits: 0, pick: (r) => r.delivery?.lagP99 ?? null },
  { key: 'deadAttempts', label: 'black-hole target: attempts', digits: 0, pick: (r) => r.deadAttempts },
  { key: 'cpu', label: 'service CPU-s, load + drain', digits: 1, pick: (r) => r.serviceCpuS },
  { key: 'expected', label: 'healthy deliveries expected', digits: 0, pick: (r) => r.exactlyOnce?.expected ?? null, total: true },
  { key: 'received', label: 'healthy deliveries received once', digits: 0, pick: (r) => r.exactlyOnce?.received ?? null, total: true },
  { key: 'missing', label: 'missing', digits: 0, pick: (r) => r.exactlyOnce?.missing ?? null, total: true },
  { key: 'duplicates', label: 'duplicates', digits: 0, pick: (r) => r.exactlyOnce?.duplicates ?? null, total: true },
  { key: 'outOfOrder', label: 'out of order within a target', digits: 0, pick: (r) => r.exactlyOnce?.outOfOrder ?? null, total: true },
]

export const VARIANTS: Variant[] = ['A', 'B', 'C']

/** Per variant, a figure's value indexed by round (null where that round has none), so ratios pair rounds. */
function series(rounds: OutboxRound[], v: Variant, pick: Figure['pick'], n: number): (number | null)[] {
  const out: (number | null)[] = Array.from({ length: n }, () => null)
  for (const r of rounds) if (r.variant === v) out[r.round - 1] = pick(r)
  return out
}

const fmt = (x: number, d: number) => x.toLocaleString('en-GB', { minimumFractionDigits: d, maximumFractionDigits: d })

export function cell(v: Spread | number | null, d: number): string {
  if (v === null) return '–'
  if (typeof v === 'number') return fmt(v, d)
  return v.n === 1 ? fmt(v.median, d) : `${fmt(v.median, d)} [${fmt(v.min, d)}–${fmt(v.max, d)}]`
}

function ratioCell(r: ReturnType<typeof ratio>): string {
  if (!r) return '–'
  const pr = r.perRound
  return pr && pr.n > 1 ? `${r.ofMedians.toFixed(2)} [${pr.min.toFixed(2)}–${pr.max.toFixed(2)}]` : r.ofMedians.toFixed(2)
}

export interface OutboxSummary {
  figures: { label: string; digits: number; byVariant: Record<Variant, Spread | number | null> }[]
  ratios: { label: string; ratio: ReturnType<typeof ratio> }[]
  /** Healthy deliveries missing or doubled, over every round. */
  faults: number
}

export function summariseOutbox(rounds: OutboxRound[], n: number): OutboxSummary {
  const figures = FIGURES.map((f) => {
    const byVariant = {} as Record<Variant, Spread | number | null>
    for (const v of VARIANTS) {
      const xs = series(rounds, v, f.pick, n)
      byVariant[v] = f.total ? (xs.every((x) => x === null) ? null : xs.reduce<number>((a, x) => a + (x ?? 0), 0)) : spread(xs)
    }
    return { label: f.label, digits: f.digits, byVariant }
  })
  const s = (v: Variant, pick: Figure['pick']) => series(rounds, v, pick, n)
  const pick = (key: string) => FIGURES.find((f) => f.key === key)!.pick
  const p99 = pick('pubackP99')
  const ratios = [
    { label: 'PUBACK p99, B/A', ratio: ratio(s('B', p99), s('A', p99)) },
    { label: 'PUBACK p99, C/A', ratio: ratio(s('C', p99), s('A', p99)) },
    // The acceptance's question: does the target that is down change ingest, against the same subscriptions all up?
    { label: 'PUBACK p99, C/B', ratio: ratio(s('C', p99), s('B', p99)) },
    { label: 'delivery rate during the load, C/B', ratio: ratio(s('C', pick('duringLoad')), s('B', pick('duringLoad'))) },
    { label: 'delivery rate, first event → drained, C/B', ratio: ratio(s('C', pick('toDrain')), s('B', pick('toDrain'))) },
  ]
  const faults = rounds.reduce((a, r) => a + (r.exactlyOnce ? r.exactlyOnce.missing + r.exactlyOnce.duplicates : 0), 0)
  return { figures, ratios, faults }
}

export function renderOutboxReport(o: { opt: OutboxBenchOptions; orders: string[][]; summary: OutboxSummary; tookS: number }): string {
  const { opt, summary } = o
  const perS = (opt.alertDevices * 2) / 3 / (opt.alertEveryMs / 1000)
  const head = [
    `smartplace outbox benchmark: ${opt.rounds} round${opt.rounds === 1 ? '' : 's'} (order ${o.orders.map((x) => x.join(' ')).join(', ')}), median [min–max]`,
    `  load: ${fmt(opt.rate, 0)} readings/s QoS 1 from ${opt.devices} bins for ${opt.seconds} s; ${opt.alertDevices} more bins tip over and`,
    `  stand up (about ${fmt(perS, 1)} alert events/s, each one delivery per subscription)`,
    `  A: no subscriptions   B: ${opt.subscriptions} webhook subscriptions, all healthy   C: the same, subscription 0 a black hole`,
    `  (accepts, never answers; WEBHOOK_TIMEOUT_MS 2000, backoff 1–5 s, OUTBOX_CONCURRENCY default)`,
    '',
  ]
  const rows: Row[] = [
    ['', 'A', 'B', 'C'],
    ...summary.figures.map((f) => [f.label, ...VARIANTS.map((v) => cell(f.byVariant[v], f.digits))]),
  ]
  rows.push(
    { title: '' },
    { title: 'ratios of the medians [per-round range]' },
    ...summary.ratios.map((r) => [r.label, ratioCell(r.ratio)]),
  )
  return [
    ...head,
    renderTable(rows),
    '',
    `healthy deliveries missing or doubled, every round: ${summary.faults}`,
    `took ${Math.round(o.tookS)} s`,
    '',
  ].join('\n')
}
