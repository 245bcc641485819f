import { type DatasetDefinition, OGL_V3, type OpenFormat } from '#devices'

/** One published dataset as the human page shows it. */
export interface PageDataset {
  dataset: DatasetDefinition
  /** Download links, one per format, absolute. */
  links: readonly { format: OpenFormat; url: string }[]
  /** The first few rows, by the dataset's own field names (the allow-list: nothing else is there). */
  sample: readonly Record<string, unknown>[]
  coverage: { start: string; end: string } | null
}

export interface PageOptions {
  publisher: string
  licence: string | null
  catalogueUrl: string
}

const FORMAT_NAMES: Record<OpenFormat, string> = {
  csv: 'CSV (spreadsheet)',
  geojson: 'GeoJSON (maps)',
  jsonld: 'NGSI-LD (FIWARE Smart Data Models)',
}

/** A download's name; NGSI-LD names its model, as a reader with a context broker looks for the entity type. */
const formatName = (format: OpenFormat, dataset: DatasetDefinition) =>
  format === 'jsonld' && dataset.ngsiLd ? `NGSI-LD (FIWARE Smart Data Model ${dataset.ngsiLd.model})` : FORMAT_NAMES[format]
const FREQUENCY_WORDS = { CONT: 'Updated as readings arrive', DAILY: 'Updated daily' } as const
const LONDON = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', dateStyle: 'long' })

const html = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

const licenceName = (url: string) => (url === OGL_V3 ? 'Open Government Licence v3.0' : url)

const cell = (v: unknown) => (v === null || v === undefined ? '' : html(typeof v === 'string' ? v : String(v)))

function sampleTable(d: PageDataset): string {
  const columns = Object.keys(d.dataset.fields.shape)
  if (d.sample.length === 0) return '<p>No rows yet: the sensors have not reported in this period.</p>'
  const head = columns.map((c) => `<th scope="col">${html(c)}</th>`).join('')
  const rows = d.sample.map((r) => `<tr>${columns.map((c) => `<td>${cell(r[c])}</td>`).join('')}</tr>`).join('\n')
  return `<div class="scroll" tabindex="0" role="region" aria-label="Sample of ${html(d.dataset.title)}">
<table><caption>${d.sample.length === 1 ? 'The first row' : `The first ${d.sample.length} rows`}</caption><thead><tr>${head}</tr></thead><tbody>
${rows}
</tbody></table></div>`
}

function section(d: PageDataset, o: PageOptions): string {
  const licence = o.licence ?? d.dataset.licence
  const period = d.coverage
    ? `<p>Covers ${html(LONDON.format(Date.parse(d.coverage.start)))} to ${html(LONDON.format(Date.parse(d.coverage.end)))}.</p>`
    : ''
  const links = d.links.map((l) => `<li><a href="${html(l.url)}">${html(formatName(l.format, d.dataset))}</a></li>`).join('')
  return `<section aria-labelledby="${html(d.dataset.id)}">
<h2 id="${html(d.dataset.id)}">${html(d.dataset.title)}</h2>
<p>${html(d.dataset.description)}</p>
<p>${FREQUENCY_WORDS[d.dataset.frequency]}. Licence: <a href="${html(licence)}" rel="license">${html(licenceName(licence))}</a>.</p>
${period}<h3>Download</h3>
<ul>${links}</ul>
<p>Fields: ${Object.keys(d.dataset.fields.shape)
    .map((f) => `<code>${html(f)}</code>`)
    .join(', ')}. Nothing else is ever published.</p>
${sampleTable(d)}
</section>`
}

/**
 * The catalogue for people (GET /open asked for as HTML): each published dataset in plain
 * English with a sample of its rows. Styles come from a file, as the CSP allows no inline style.
 */
export function openDataPage(datasets: readonly PageDataset[], o: PageOptions): string {
  const body = datasets.length === 0 ? '<p>No datasets are published yet.</p>' : datasets.map((d) => section(d, o)).join('\n')
  return `<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Open data from ${html(o.publisher)}</title>
<link rel="stylesheet" href="/open/page.css">
<link rel="icon" href="data:,">
<link rel="alternate" type="application/ld+json" href="${html(o.catalogueUrl)}">
</head>
<body>
<main>
<h1>Open data from ${html(o.publisher)}</h1>
<p>Data from the council's street and building sensors, free to use under the licence shown with each dataset.
Data portals can harvest this list as a DCAT catalogue: ask for <code>application/ld+json</code> at this address.
Downloads need no account. Each accepts <code>limit</code> and <code>cursor</code> for paging, and history datasets <code>from</code> and <code>to</code> (dates).</p>
<p>Housing data (homes, boilers, room sensors, damp, repairs cases, addresses) is never published.</p>
${body}
</main>
</body>
</html>
`
}

/** The page's stylesheet, served as a file (style-src 'self'). */
export const OPEN_DATA_PAGE_CSS = `body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#0b0c0c;background:#fff}
main{max-width:60rem;margin:0 auto;padding:1rem}
h1{font-size:1.8rem}h2{margin-top:2rem;border-top:1px solid #b1b4b6;padding-top:1rem}
a{color:#1d70b8}a:focus,.scroll:focus{outline:3px solid #fd0;outline-offset:0}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:.875rem}caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border:1px solid #b1b4b6;padding:.25rem .5rem;text-align:left;white-space:nowrap}
code{font-size:.9em;background:#f3f2f1;padding:0 .2em}
`
