/**
 * Finds what must never be in a log line: a secret the tests made (exact match), and
 * anything shaped like one: API tokens, 256-bit random values, email addresses, client IP
 * addresses, and credential-named fields with a value. Pure, so its own test can show it
 * catches each kind.
 */
export interface Leak {
  kind: 'known-secret' | 'api-token' | 'random-secret' | 'email' | 'ip-address' | 'credential-field'
  line: number
  excerpt: string
}

const API_TOKEN = /spt_[A-Za-z0-9_-]{20,}/
// 32 random bytes in base64url are 43 characters; nothing else we log is a run that long of these characters.
const RANDOM_SECRET = /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/
// An address that is not the host of a URL (the service saying where it listens is not about a person).
const IPV4 = /(?<![/\d.[])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])/
// In JSON, a value made only of hex and colons with a '::' or a hex letter: an IPv6 address, not a clock time.
const IPV6 = /"(?=[0-9a-f:]*(?:::|[a-f]))(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}"/i
// `current` and `next` are the old and new password of POST /api/auth/password (dashboards/routes/auth.ts).
const CREDENTIAL_FIELD =
  /"(password|passwd|current|next|secret|client_secret|token|authorization|cookie|csrf[a-z]*|set-cookie)"\s*:\s*"(?!\[Redacted\])[^"]+"/i

// Addresses that are not about a person: a server the service failed to reach, a certificate's own name.
const SERVER_CONTEXT = /\b(?:E[A-Z]+|connect \w+) (?:\d{1,3}\.){3}\d{1,3}:\d+|IP Address:[0-9a-f.:]+/gi

/** Only structured log lines count: the banner a start prints (where it listens, how to begin) is not a log. */
export function findLeaks(text: string, secrets: readonly string[]): Leak[] {
  const leaks: Leak[] = []
  const known = secrets.filter((s) => s.length >= 8)
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (!line.startsWith('{')) continue
    const l = line.replace(SERVER_CONTEXT, '')
    const add = (kind: Leak['kind']) => leaks.push({ kind, line: i + 1, excerpt: line.slice(0, 200) })
    if (known.some((s) => l.includes(s))) add('known-secret')
    else if (API_TOKEN.test(l)) add('api-token')
    else if (RANDOM_SECRET.test(l)) add('random-secret')
    else if (EMAIL.test(l)) add('email')
    else if (IPV4.test(l) || IPV6.test(l)) add('ip-address')
    else if (CREDENTIAL_FIELD.test(l)) add('credential-field')
  }
  return leaks
}
