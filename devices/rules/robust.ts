/** Median of a non-empty list (sorts a copy). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Lower value of a sorted-by-rank quantile (nearest rank), q in [0, 1]. */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!
}

/**
 * Theil–Sen line through points [t, v]: the median of pairwise slopes, and the median level at
 * time `at`. Up to ~29 % of points can be outliers (lid-open glitches, echoes) without moving it,
 * where least squares would follow them. Needs at least two distinct times.
 */
export function theilSen(points: readonly (readonly [number, number])[], at: number): { slope: number; level: number } | null {
  const n = points.length
  // Typed arrays sort numerically in native code: several times faster than Array#sort with a comparator.
  const slopes = new Float64Array((n * (n - 1)) / 2)
  let m = 0
  for (let i = 0; i < n; i++) {
    const [ti, vi] = points[i]!
    for (let j = i + 1; j < n; j++) {
      const [tj, vj] = points[j]!
      if (tj !== ti) slopes[m++] = (vj - vi) / (tj - ti)
    }
  }
  if (m === 0) return null
  const slope = sortedMedian(slopes.subarray(0, m).sort())
  const levels = new Float64Array(n)
  for (let i = 0; i < n; i++) levels[i] = points[i]![1] - slope * (points[i]![0] - at)
  return { slope, level: sortedMedian(levels.sort()) }
}

function sortedMedian(s: Float64Array): number {
  const h = s.length >> 1
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2
}
