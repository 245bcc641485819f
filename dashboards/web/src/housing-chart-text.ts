import { when } from './crew-words.ts'
import type { ChartSpec } from './housing-chart.ts'
import type { DampSpan } from './housing-damp.ts'

const fmt = (v: number, spec: ChartSpec) => `${v.toFixed(spec.decimals)} ${spec.unit}`

/** The key in words and the figures as a table: latest, lowest and highest in the window, the alert levels and the damp periods. */
export function describe(
  spec: ChartSpec,
  xs: readonly number[],
  ys: readonly (number | null)[][],
  spans: readonly DampSpan[],
  out: { key: HTMLElement; table: HTMLTableElement; spansList: HTMLElement },
) {
  const li = (text: string, cls: string) => {
    const el = document.createElement('li')
    el.className = cls
    el.textContent = text
    return el
  }
  out.key.replaceChildren(
    ...spec.lines.map((l) => {
      const el = li(`${l.label} (${l.dash ? 'dashed' : 'solid'} line)`, l.dash ? 'key-line dashed' : 'key-line')
      el.style.setProperty('--key-colour', l.colour)
      return el
    }),
    ...spec.levels.map((l) => li(`Alert level, dashed: ${l.label}, ${fmt(l.value, spec)}`, `key-level ${l.severity}`)),
    ...(spec.damp ? [li('Shaded: damp and mould risk (the damp rule’s conditions held)', 'key-damp')] : []),
  )

  const head = document.createElement('tr')
  for (const h of ['Reading', 'Latest', 'Lowest', 'Highest']) {
    const th = document.createElement('th')
    th.scope = 'col'
    th.textContent = h
    head.append(th)
  }
  const thead = document.createElement('thead')
  thead.append(head)
  const body = document.createElement('tbody')
  spec.lines.forEach((l, i) => {
    const values = ys[i] ?? []
    let last = -1
    for (let j = values.length - 1; j >= 0; j--)
      if (values[j] !== null) {
        last = j
        break
      }
    const real = values.filter((v): v is number => v !== null)
    const cells = [
      last < 0 ? 'none' : `${fmt(values[last]!, spec)} at ${when(new Date(xs[last]! * 1000).toISOString())}`,
      real.length ? fmt(Math.min(...real), spec) : 'none',
      real.length ? fmt(Math.max(...real), spec) : 'none',
    ]
    const tr = document.createElement('tr')
    const th = document.createElement('th')
    th.scope = 'row'
    th.textContent = l.label
    tr.append(th)
    const labels = ['Latest', 'Lowest', 'Highest']
    cells.forEach((c, k) => {
      const td = document.createElement('td')
      td.dataset.label = labels[k]!
      td.textContent = c
      tr.append(td)
    })
    body.append(tr)
  })
  out.table.replaceChildren(thead, body)

  const lines = spec.levels.map((l) => li(`Alert level: ${l.label}, ${fmt(l.value, spec)}`, ''))
  if (spec.damp)
    lines.push(
      ...(spans.length === 0
        ? [li('No damp-risk periods in this window.', '')]
        : spans.map((s) =>
            li(
              `Damp risk from ${when(new Date(s.from).toISOString())} to ${when(new Date(s.to).toISOString())}: ${s.reasons.join('; ')}`,
              'damp-span',
            ),
          )),
    )
  out.spansList.replaceChildren(...lines)
}
