import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { Webhook } from 'standardwebhooks'

export type Mode = 'down' | 'slow' | 'up' | 'hold' | 'gone'
export interface Received {
  id: string
  timestamp: string
  body: string
  verified: boolean
}

/** An in-test receiver on a fixed loopback port: not listening while down. */
export function receiver(port: number, slowMs: number) {
  let server: Server | null = null
  let mode: Mode = 'down'
  const requests: Received[] = []
  const held: ServerResponse[] = []
  let onRequest: (r: Received) => void = () => {}
  let secrets: string[] = []
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    let body = ''
    req.on('data', (c: Buffer) => {
      body += c.toString()
    })
    req.on('end', () => {
      const headers = req.headers as Record<string, string>
      // Verified with every secret the test holds: each must accept the request on its own.
      let verified = secrets.length > 0
      for (const secret of secrets)
        try {
          new Webhook(secret).verify(body, headers)
        } catch {
          verified = false
        }
      const r = { id: headers['webhook-id']!, timestamp: headers['webhook-timestamp']!, body, verified }
      requests.push(r)
      onRequest(r)
      if (mode === 'slow') setTimeout(() => res.writeHead(204).end(), slowMs)
      else if (mode === 'hold') held.push(res)
      else if (mode === 'gone') res.writeHead(410).end('no such hook')
      else res.writeHead(204).end()
    })
  }
  return {
    requests,
    secrets: () => secrets,
    setSecrets(...s: string[]) {
      secrets = s
    },
    next: () => new Promise<Received>((r) => (onRequest = r)),
    set,
    close: () => {
      for (const res of held.splice(0)) res.destroy()
      return set('down')
    },
  }
  async function set(m: Mode) {
    mode = m
    if (m === 'down' && server) {
      const s = server
      server = null
      s.closeAllConnections()
      await new Promise((r) => s.close(r))
    } else if (m !== 'down' && !server) {
      server = createServer(handle)
      await new Promise<void>((r) => server!.listen(port, '127.0.0.1', r))
    }
    if (m === 'up') for (const res of held.splice(0)) res.writeHead(204).end()
  }
}
