import { FIGURE_GROUPS } from './figures.ts'
import type { BenchOptions } from './options.ts'
import { FIXED_RATE } from './options.ts'
import type { SingleRun } from './single-run.ts'
import type { Spread } from './stats.ts'
import type { FigureSummary } from './summary.ts'
import { type Row, renderTable } from './table.ts'
import type { TargetCheck } from './targets.ts'

export interface ReportPath {
  name: string
  /** A, B, C…: short column headings, explained above the table. */
  letter: string
  label: string
}

const fmt = (x: number, digits: number) => x.toFixed(digits)

function cell(v: Spread | number | null, digits: number): string {
  if (v === null) return '–'
  if (typeof v === 'number') return fmt(v, digits)
  return v.n === 1 ? fmt(v.median, digits) : `${fmt(v.median, digits)} [${fmt(v.min, digits)}–${fmt(v.max, digits)}]`
}

function ratioCell(r: FigureSummary['ratios'][string] | undefined): string {
  if (!r) return ''
  const pr = r.perRound
  return pr && pr.n > 1 ? `${r.ofMedians.toFixed(2)} [${pr.min.toFixed(2)}–${pr.max.toFixed(2)}]` : r.ofMedians.toFixed(2)
}

export function renderReport(o: {
  opt: BenchOptions
  paths: ReportPath[]
  orders: string[][]
  summary: FigureSummary[]
  targets: TargetCheck[]
  /** Paths the targets apply to (the services, not the peer). */
  targetPaths: ReportPath[]
  single: SingleRun | null
  lost: number
  tookS: number
}): string {
  const [first, ...others] = o.paths
  const letter = new Map(o.paths.map((p) => [p.name, p.letter]))
  const out: string[] = []
  const order = o.orders.map((r) => r.map((n) => letter.get(n)).join(' ')).join(', ')
  out.push(
    `smartplace benchmark: ${o.opt.rounds} round${o.opt.rounds === 1 ? '' : 's'} (order ${order}), ${o.opt.devices} publisher connections, ` +
      `${o.opt.seconds} s per phase, QoS 1, one 2-core machine${o.opt.quick ? ' (--quick: rough figures)' : ''}`,
  )
  for (const p of o.paths) out.push(`  ${p.letter}  ${p.label}`)
  out.push(
    `  each cell: median [min–max] over rounds; ${first!.letter}/x: ratio of ${first!.letter}'s median to x's [range of the same-round ratios]`,
    '',
  )

  const head = ['', ...o.paths.flatMap((p, i) => (i === 0 ? [p.letter] : [p.letter, `${first!.letter}/${p.letter}`]))]
  const rows: Row[] = [head]
  for (const g of FIGURE_GROUPS) {
    rows.push({ title: g.title })
    for (const f of g.figures) {
      const s = o.summary.find((x) => x.key === f.key)!
      rows.push([
        `  ${f.label}`,
        cell(s.byPath[first!.name] ?? null, f.digits),
        ...others.flatMap((p) => [cell(s.byPath[p.name] ?? null, f.digits), ratioCell(s.ratios[p.name])]),
      ])
    }
  }
  out.push(renderTable(rows), '')

  out.push(`targets at ${FIXED_RATE.toLocaleString('en-GB')} readings/s: median over rounds (rounds that met it)`)
  const trows: Row[] = [['', 'target', ...o.targetPaths.map((p) => p.letter)]]
  for (const t of o.targets) {
    trows.push([
      `  ${t.label}`,
      t.target,
      ...o.targetPaths.map((p) => {
        const r = t.byPath[p.name]!
        const v = r.value === null ? '–' : Number.isInteger(r.value) ? String(r.value) : r.value.toFixed(1)
        return `${v} ${r.pass ? 'PASS' : 'FAIL'} (${r.roundsPassing}/${r.rounds})`
      }),
    ])
  }
  out.push(renderTable(trows), '')

  if (o.single) {
    out.push(`single run, ${first!.letter} only`)
    out.push(renderTable(o.single.rows.map(([k, v]) => [`  ${k}`, v])), '')
  }
  out.push(`acknowledged readings lost (${first!.letter}, every phase): ${o.lost}`)
  out.push(`took ${(o.tookS / 60).toFixed(1)} min`)
  return `${out.join('\n')}\n`
}
