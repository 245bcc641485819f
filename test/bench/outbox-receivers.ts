import http from 'node:http'
import net from 'node:net'
import { onCleanup } from './cleanup.ts'
import { createTally, type Tally } from './outbox-tally.ts'

export interface Receivers {
  /** Where subscription `n` points: a healthy receiver, or the black hole. */
  urlOf(n: number, dead: boolean): string
  tally: Tally
  /** Connections the black hole accepted: one per attempt (the sender opens one per request). */
  blackHoleAttempts(): number
  close(): Promise<void>
}

const listen = (server: net.Server) =>
  new Promise<number>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port))
  })

/** Reads the event time out of a Standard Webhooks body (`{type, timestamp, data: {at}}`). */
function eventAt(body: string): number | null {
  try {
    const p = JSON.parse(body) as { data?: { at?: unknown }; timestamp?: unknown }
    const at = typeof p.data?.at === 'string' ? p.data.at : typeof p.timestamp === 'string' ? p.timestamp : null
    const ms = at === null ? Number.NaN : Date.parse(at)
    return Number.isNaN(ms) ? null : ms
  } catch {
    return null
  }
}

/**
 * The webhook targets, in this process: `ports` HTTP servers that answer 204 at once and count
 * each delivery by its path (`/hook/<n>`) and `webhook-id`, and a black hole that accepts
 * connections and never answers, so each attempt at it holds a sender slot for the whole
 * WEBHOOK_TIMEOUT_MS (harsher than a refused port, which fails at once).
 */
export async function startReceivers(ports = 4): Promise<Receivers> {
  const tally = createTally()
  const servers: net.Server[] = []
  const sockets = new Set<net.Socket>()
  const track = (s: net.Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => {})
  }

  const healthy: number[] = []
  for (let i = 0; i < ports; i++) {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const m = /^\/hook\/(\d+)$/.exec(req.url ?? '')
        const id = req.headers['webhook-id']
        if (req.method !== 'POST' || !m || typeof id !== 'string') {
          res.writeHead(400).end()
          return
        }
        tally.record({ target: Number(m[1]), webhookId: id, atMs: Date.now(), eventAtMs: eventAt(Buffer.concat(chunks).toString('utf8')) })
        res.writeHead(204).end()
      })
    })
    server.on('connection', track)
    servers.push(server)
    healthy.push(await listen(server))
  }

  let attempts = 0
  const hole = net.createServer((s) => {
    attempts++
    track(s)
    s.resume() // read and drop the request; never answer
  })
  servers.push(hole)
  const holePort = await listen(hole)

  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    for (const s of sockets) s.destroy()
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
  }
  const dropCleanup = onCleanup(close)
  return {
    urlOf: (n, dead) => (dead ? `http://127.0.0.1:${holePort}/hook/${n}` : `http://127.0.0.1:${healthy[n % healthy.length]}/hook/${n}`),
    tally,
    blackHoleAttempts: () => attempts,
    async close() {
      await close()
      dropCleanup()
    },
  }
}
