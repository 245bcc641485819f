import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { cspDirectives, inlineScriptHashes } from '../../dashboards/security-headers.ts'

const sha = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`

describe('the page’s own inline script is allowed by its hash, and nothing else inline', () => {
  it('hashes each inline script exactly as written, and skips scripts loaded from a file and empty ones', () => {
    const early = "\n      try { fetch('/api/me') } catch {}\n    "
    const html = `<head>
    <script>${early}</script>
    <script type="module" crossorigin src="/assets/index-abc.js"></script>
    <script async src="/early.js"></script>
    <SCRIPT type="text/javascript">x()</SCRIPT>
    <script>  </script>
    </head>`
    expect(inlineScriptHashes(html)).toEqual([sha(early), sha('x()')])
    // One byte more (an injected call, say) is another hash.
    expect(inlineScriptHashes(`<script>${early};</script>`)).not.toEqual([sha(early)])
    expect(inlineScriptHashes('<p>no scripts</p>')).toEqual([])
  })

  it('puts the hashes after self in script-src, and leaves inline script attributes refused', () => {
    const d = cspDirectives(null, ["'sha256-abc='"])
    expect(d['script-src']).toEqual(["'self'", "'sha256-abc='"])
    expect(d['script-src-attr']).toEqual(["'none'"])
    expect(cspDirectives(null)['script-src']).toEqual(["'self'"])
  })

  it('finds the one inline script of the web app’s page', () => {
    const page = readFileSync(new URL('../../dashboards/web/index.html', import.meta.url), 'utf8')
    const found = inlineScriptHashes(page)
    expect(found).toHaveLength(1)
    expect(page).toContain('/api/crew/today?limit=50')
  })
})
