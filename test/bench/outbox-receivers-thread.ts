import http from 'node:http'
import net from 'node:net'
import { parentPort, workerData } from 'node:worker_threads'
import type { Delivered } from './outbox-tally.ts'

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
 * The webhook targets, on a thread of the bench (outbox-receivers.ts starts it): `ports` HTTP
 * servers that answer 204 at once and note each delivery by its path (`/hook/<n>`) and
 * `webhook-id`, and a black hole that accepts connections and never answers, so each attempt at it
 * holds a sender slot for the whole WEBHOOK_TIMEOUT_MS (harsher than a refused port, which fails at
 * once). On their own thread, so 600 requests a second do not delay the load generator's PUBACK clock.
 */
const port = parentPort!
const { ports } = workerData as { ports: number }
let batch: Delivered[] = []
let attempts = 0
let attemptsSent = 0
const sockets = new Set<net.Socket>()
const track = (s: net.Socket) => {
  sockets.add(s)
  s.on('close', () => sockets.delete(s))
  s.on('error', () => {})
}
const servers: net.Server[] = []
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
      batch.push({ target: Number(m[1]), webhookId: id, atMs: Date.now(), eventAtMs: eventAt(Buffer.concat(chunks).toString('utf8')) })
      res.writeHead(204).end()
    })
  })
  server.on('connection', track)
  servers.push(server)
  healthy.push(await listen(server))
}
const hole = net.createServer((s) => {
  attempts++
  track(s)
  s.resume() // read and drop the request; never answer
})
servers.push(hole)
const holePort = await listen(hole)

// What arrived goes to the bench's tally in batches, a few times a second.
const flush = () => {
  if (batch.length > 0 || attempts !== attemptsSent) port.postMessage({ type: 'seen', deliveries: batch, attempts })
  attemptsSent = attempts
  batch = []
}
const timer = setInterval(flush, 20)
port.on('message', async (m: { type: 'close' }) => {
  if (m.type !== 'close') return
  clearInterval(timer)
  for (const s of sockets) s.destroy()
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
  flush()
  port.postMessage({ type: 'closed' })
  port.close()
})
port.postMessage({ type: 'ready', healthy, holePort })
