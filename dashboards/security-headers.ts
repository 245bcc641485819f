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
 * What the dashboard, Swagger UI (/docs) and Socket.IO need, and nothing else. No inline
 * script or style anywhere: the Vite build emits files, and DOM code sets styles through
 * CSSOM, which style-src does not govern.
 */
export function cspDirectives(mapTileUrl: string | null): Record<string, string[]> {
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
    'script-src': ["'self'"],
    'script-src-attr': ["'none'"],
    'style-src': ["'self'"],
  }
}

export function helmetOptions(mapTileUrl: string | null): FastifyHelmetOptions {
  return {
    // useDefaults: false also leaves out upgrade-insecure-requests, which would send a plain-http
    // LAN deployment's own requests to an https port that is not there.
    contentSecurityPolicy: { useDefaults: false, directives: cspDirectives(mapTileUrl) },
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
