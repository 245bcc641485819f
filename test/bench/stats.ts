/** Median and spread of one figure over the rounds; null when no round produced a number. */
export interface Spread {
  n: number
  median: number
  min: number
  max: number
  /** Quartiles (linear interpolation); with three rounds they say little more than min and max. */
  q1: number
  q3: number
}

function quantile(sorted: number[], q: number): number {
  const at = (sorted.length - 1) * q
  const lo = Math.floor(at)
  const hi = Math.ceil(at)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo)
}

export function spread(xs: (number | null)[]): Spread | null {
  const s = xs.filter((x): x is number => x !== null && Number.isFinite(x)).sort((a, b) => a - b)
  if (s.length === 0) return null
  return { n: s.length, median: quantile(s, 0.5), min: s[0]!, max: s[s.length - 1]!, q1: quantile(s, 0.25), q3: quantile(s, 0.75) }
}

/**
 * The ratio of the medians, plus the ratios within each round: both paths of a round ran
 * back to back, so a narrow per-round range means the host's noise did not decide the ratio.
 */
export function ratio(a: (number | null)[], b: (number | null)[]): { ofMedians: number; perRound: Spread | null } | null {
  const ma = spread(a)
  const mb = spread(b)
  if (!ma || !mb || mb.median === 0) return null
  const perRound = a.map((x, i) => {
    const y = b[i]
    return x === null || y === null || y === undefined || y === 0 ? null : x / y
  })
  return { ofMedians: ma.median / mb.median, perRound: spread(perRound) }
}
