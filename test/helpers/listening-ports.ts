import { readdirSync, readFileSync, readlinkSync } from 'node:fs'

/**
 * The TCP ports a process listens on (Linux /proc): shows what it does not open,
 * which no connection attempt to a guessed port can.
 */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>()
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))
      if (m) inodes.add(m[1]!)
    } catch {
      // closed while listing
    }
  }
  const ports = new Set<number>()
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      // local_address is addr:port in hex; state 0A is LISTEN; field 9 is the inode.
      if (f[3] === '0A' && inodes.has(f[9]!)) ports.add(Number.parseInt(f[1]!.split(':')[1]!, 16))
    }
  }
  return [...ports].sort((a, b) => a - b)
}
