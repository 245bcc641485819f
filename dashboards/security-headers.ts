import { createHash } from 'node:crypto'
import type { FastifyHelmetOptions } from '@fastify/helmet'

/**
 * The img-src source for a Leaflet tile URL template: its origin, with a `{s}.` subdomain
 * as a wildcard (https://{s}.tile.example.org/{z}/{x}/{y}.png → https://*.tile.example.org).
 * The shape was checked when the config was parsed.
 */
export function tileSource(template: string): string {
  const url = new URL(template.replace('{s}', 'a'))
  const host = template.includes('//{s}.') ? `*.${url.host.slice(2)}` : url.host
  return `${url.protocol}//${host}`
}

/**
 * The CSP hash source of each inline script of a page ('sha256-…'): the page's own first script,
 * which asks for a crew's list before the bundle has arrived, runs without 'unsafe-inline', and a
 * script injected into the page (changed by a single byte) does not.
 */
export function inlineScriptHashes(html: string): string[] {
  const hashes: string[] = []
  for (const m of html.matchAll(/<script(\s[^>]*)?>([\s\S]*?)<\/script>/gi))
    if (!/\ssrc\s*=/i.test(m[1] ?? '') && m[2]!.trim() !== '')
      hashes.push(`'sha256-${createHash('sha256').update(m[2]!, 'utf8').digest('base64')}'`)
  return hashes
}

/**
 * What the dashboard, Swagger UI (/docs) and Socket.IO need, and nothing else. No inline style
 * anywhere, and no inline script but those of the page named by their hashes: the Vite build
 * emits files, and DOM code sets styles through CSSOM, which style-src does not govern.
 */
export function cspDirectives(mapTileUrl: string | null, scriptHashes: readonly string[] = []): Record<string, string[]> {
  return {
    'default-src': ["'self'"],
    'base-uri': ["'self'"],
    // CSP Level 3 lets 'self' match ws: and wss: on this host (Chromium, Firefox, Safari 15.4+), which is all Socket.IO needs.
    'connect-src': ["'self'"],
    'font-src': ["'self'", 'data:'],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
    'img-src': ["'self'", 'data:', ...(mapTileUrl ? [tileSource(mapTileUrl)] : [])],
    'object-src': ["'none'"],
    'script-src': ["'self'", ...scriptHashes],
    'script-src-attr': ["'none'"],
    'style-src': ["'self'"],
  }
}

export function helmetOptions(mapTileUrl: string | null, scriptHashes: readonly string[] = []): FastifyHelmetOptions {
  return {
    // useDefaults: false also leaves out upgrade-insecure-requests, which would send a plain-http
    // LAN deployment's own requests to an https port that is not there.
    contentSecurityPolicy: { useDefaults: false, directives: cspDirectives(mapTileUrl, scriptHashes) },
    // frame-ancestors for browsers that read CSP; this for those that do not.
    xFrameOptions: { action: 'deny' },
    // HSTS belongs to whatever terminates TLS: the app cannot tell whether https exists, and a
    // wrongly pinned host stays unreachable over http for the whole max-age.
    strictTransportSecurity: false,
  }
}

/**
 * Swagger UI (/docs) adds one inline <style> element at run time. Inline style, never script,
 * is allowed there and only there; a hash would break on every Swagger UI update.
 */
export function allowInlineStyle(csp: string): string {
  return csp
    .split(';')
    .map((d) => d.trim())
    .map((d) => (d.startsWith('style-src ') ? `${d} 'unsafe-inline'` : d))
    .join(';')
}

/**
 * Socket.IO answers /socket.io/ itself, before Fastify sees the request, so helmet never runs
 * there. Those answers are JSON or Engine.IO frames, never pages: the strictest set fits.
 */
export const ENGINE_IO_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
}
