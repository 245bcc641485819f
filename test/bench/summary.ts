import { FIGURES } from './figures.ts'
import type { PathRound } from './round.ts'
import { ratio, type Spread, spread } from './stats.ts'

export interface FigureSummary {
  key: string
  label: string
  /** Per path: median and spread over rounds, or for a total figure the sum. */
  byPath: Record<string, Spread | number | null>
  /** First path over each other path: ratio of medians and the range of per-round ratios. */
  ratios: Record<string, ReturnType<typeof ratio>>
}

/** Each path's value of a figure, indexed by round, so that ratios pair the same round. */
function series(rounds: PathRound[], path: string, pick: (r: PathRound) => number | null, n: number) {
  const out: (number | null)[] = Array.from({ length: n }, () => null)
  for (const r of rounds) if (r.path === path) out[r.round - 1] = pick(r)
  return out
}

export function summarise(paths: string[], rounds: PathRound[], n: number): FigureSummary[] {
  const [first, ...others] = paths
  return FIGURES.map((f) => {
    const byPath: FigureSummary['byPath'] = {}
    const values = new Map(paths.map((p) => [p, series(rounds, p, f.pick, n)]))
    for (const p of paths) {
      const xs = values.get(p)!
      // A path that cannot measure the figure at all (the peer's alerts) shows a dash, not a zero.
      byPath[p] = f.total ? (xs.every((x) => x === null) ? null : xs.reduce<number>((a, x) => a + (x ?? 0), 0)) : spread(xs)
    }
    const ratios: FigureSummary['ratios'] = {}
    if (!f.total && first) for (const p of others) ratios[p] = ratio(values.get(first)!, values.get(p)!)
    return { key: f.key, label: f.label, byPath, ratios }
  })
}
