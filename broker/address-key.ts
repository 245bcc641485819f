/**
 * The key a client address is braked by. An IPv4 address (also when written as
 * IPv4-mapped IPv6) is itself; an IPv6 address is its /64, because one host
 * usually holds a whole /64 and could otherwise step to a fresh address per attempt.
 */
export function addressKey(address: string): string {
  const a = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
  if (!a.includes(':')) return a
  const bare = a.split('%')[0]!.toLowerCase()
  const [head = '', tail] = bare.split('::')
  const groups = (s: string) => (s === '' ? [] : s.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])))
  const h = groups(head)
  const t = tail === undefined ? [] : groups(tail)
  const full = [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t]
  return `${full
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`
}
