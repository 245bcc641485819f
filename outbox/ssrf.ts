import { lookup as dnsLookup } from 'node:dns/promises'
import { isIP } from 'node:net'

/**
 * Server-side request forgery guard for webhook targets: a target must resolve only to public
 * addresses, unless its host name or address is on the configured allow-list (WEBHOOK_ALLOW_HOSTS).
 */
export type AddressClass = 'public' | 'unspecified' | 'loopback' | 'private' | 'link-local' | 'cgnat' | 'multicast' | 'reserved'

const V4_RANGES: [number, number, AddressClass][] = [
  [0x00000000, 8, 'unspecified'], // 0.0.0.0/8 "this network"
  [0x0a000000, 8, 'private'],
  [0x7f000000, 8, 'loopback'],
  [0x64400000, 10, 'cgnat'], // 100.64.0.0/10
  [0xa9fe0000, 16, 'link-local'],
  [0xac100000, 12, 'private'],
  [0xc0000000, 24, 'reserved'], // IETF protocol assignments
  [0xc0a80000, 16, 'private'],
  [0xc6120000, 15, 'reserved'], // benchmarking
  [0xe0000000, 4, 'multicast'],
  [0xf0000000, 4, 'reserved'], // incl. 255.255.255.255
]

function v4Class(a: string): AddressClass {
  const n = a.split('.').reduce((acc, part) => acc * 256 + Number(part), 0)
  for (const [base, bits, cls] of V4_RANGES) {
    const size = 2 ** (32 - bits)
    if (n >= base && n < base + size) return cls
  }
  return 'public'
}

/** The 16 bytes of an IPv6 address (an embedded dotted IPv4 tail included). */
function v6Bytes(a: string): number[] {
  let s = a.toLowerCase().split('%')[0]!
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(s)
  if (tail) {
    const p = tail[1]!.split('.').map(Number)
    s = `${s.slice(0, -tail[1]!.length)}${((p[0]! << 8) | p[1]!).toString(16)}:${((p[2]! << 8) | p[3]!).toString(16)}`
  }
  const [head, rest] = s.split('::') as [string, string | undefined]
  const h = head ? head.split(':') : []
  const r = rest ? rest.split(':') : []
  const groups = rest === undefined ? h : [...h, ...Array(8 - h.length - r.length).fill('0'), ...r]
  return groups.flatMap((g) => {
    const n = Number.parseInt(g || '0', 16)
    return [n >> 8, n & 0xff]
  })
}

function v6Class(a: string): AddressClass {
  const b = v6Bytes(a)
  const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0)
  const embedded = () => b.slice(12, 16).join('.')
  if (zeros(0, 16)) return 'unspecified'
  if (zeros(0, 15) && b[15] === 1) return 'loopback'
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) carry an IPv4 address: judge that.
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return v4Class(embedded())
  if (zeros(0, 12)) return v4Class(embedded())
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12)) return v4Class(embedded())
  if (b[0] === 0xff) return 'multicast'
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return 'link-local'
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0xc0) return 'private' // site-local (deprecated)
  if ((b[0]! & 0xfe) === 0xfc) return 'private' // unique local fc00::/7
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x0d && b[3] === 0xb8) return 'reserved' // documentation
  return 'public'
}

/** The class of an IP address; throws on something that is not one. */
export function classifyAddress(address: string): AddressClass {
  const a = address.replace(/^\[|\]$/g, '')
  const family = isIP(a)
  if (family === 4) return v4Class(a)
  if (family === 6) return v6Class(a)
  throw new Error(`${address} is not an IP address`)
}

export type TargetCheck =
  | { ok: true; addresses: { address: string; family: 4 | 6 }[] }
  | { ok: false; code: 'WEBHOOK_TARGET_REFUSED' | 'WEBHOOK_TARGET_UNRESOLVED'; message: string }

export type Resolver = (host: string) => Promise<{ address: string; family: number }[]>
const systemResolver: Resolver = (host) => dnsLookup(host, { all: true, verbatim: true })

export interface TargetPolicy {
  /** Resolves the host and checks every address; the ones to connect to when allowed. */
  check(host: string): Promise<TargetCheck>
}

export function createTargetPolicy(allowHosts: readonly string[], resolve: Resolver = systemResolver): TargetPolicy {
  const allowed = new Set(
    allowHosts
      .map((h) =>
        h
          .trim()
          .toLowerCase()
          .replace(/^\[|\]$/g, ''),
      )
      .filter(Boolean),
  )
  const judge = (host: string, addresses: { address: string; family: number }[]): TargetCheck => {
    const hostListed = allowed.has(host)
    for (const { address } of addresses) {
      const cls = classifyAddress(address)
      if (cls !== 'public' && !hostListed && !allowed.has(address.toLowerCase()))
        return {
          ok: false,
          code: 'WEBHOOK_TARGET_REFUSED',
          message: `${host === address ? host : `${host} resolves to ${address}, which`} is a ${cls} address; list it in WEBHOOK_ALLOW_HOSTS to allow it`,
        }
    }
    return { ok: true, addresses: addresses.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 })) }
  }
  return {
    async check(rawHost) {
      const host = rawHost.toLowerCase().replace(/^\[|\]$/g, '')
      const family = isIP(host)
      if (family) return judge(host, [{ address: host, family }])
      let addresses: { address: string; family: number }[]
      try {
        addresses = await resolve(host)
      } catch (e) {
        return { ok: false, code: 'WEBHOOK_TARGET_UNRESOLVED', message: `${host} does not resolve: ${(e as Error).message}` }
      }
      if (addresses.length === 0) return { ok: false, code: 'WEBHOOK_TARGET_UNRESOLVED', message: `${host} has no address` }
      return judge(host, addresses)
    },
  }
}
