/** A row of cells, or a section title spanning the row. */
export type Row = string[] | { title: string }

/** Plain-text columns, two spaces apart, indented; titles sit flush with the first column. */
export function renderTable(rows: Row[], indent = '  '): string {
  const cells = rows.filter((r): r is string[] => Array.isArray(r))
  const widths: number[] = []
  for (const r of cells) {
    for (const [i, c] of r.entries()) widths[i] = Math.max(widths[i] ?? 0, c.length)
  }
  return rows
    .map((r) => (Array.isArray(r) ? `${indent}${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd() : `${indent}${r.title}`))
    .join('\n')
}
