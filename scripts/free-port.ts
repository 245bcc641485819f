import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

/**
 * The lowest port the kernel hands out to outgoing connections. A port picked by listening on 0
 * comes from that same range, so between our close and the child's listen a client socket (the
 * tests open thousands) may take it as its source port: EADDRINUSE. Ports below it are only ever
 * taken by someone listening on them on purpose.
 */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    if (Number.isInteger(low) && low > 12_000) return low
  } catch {
    // not Linux: fall back to the IANA dynamic range
  }
  return 49_152
}

const LOW = 10_000
const HIGH = ephemeralLow() - 1
// Parallel test workers and the processes they spawn start at different places in the range.
let next = LOW + Math.floor(Math.random() * (HIGH - LOW))

const canListen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })

/** A loopback port nobody listens on, outside the range the kernel gives outgoing connections. */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 1_000; tries++) {
    next = next >= HIGH ? LOW : next + 1 + Math.floor(Math.random() * 7)
    // Kept in a local: callers awaiting several ports at once move `next` while this one is checked.
    const port = next
    if (await canListen(port)) return port
  }
  throw new Error(`no free loopback port between ${LOW} and ${HIGH}`)
}
