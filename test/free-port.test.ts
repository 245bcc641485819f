import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { freePort } from '../scripts/free-port.ts'

describe('freePort', () => {
  it('gives distinct listenable ports below the range the kernel hands to outgoing connections', async () => {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    const ports = [await freePort(), await freePort(), await freePort()]
    expect(new Set(ports).size).toBe(3)
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(10_000)
      expect(p).toBeLessThan(low)
      const s = createServer()
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject)
        s.listen(p, '127.0.0.1', resolve)
      })
      await new Promise((r) => s.close(r))
    }
  })
})
