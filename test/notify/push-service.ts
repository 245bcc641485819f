import { createECDH, randomBytes } from 'node:crypto'
import http from 'node:http'
import { decryptPush } from './rfc8291.ts'

export interface PushReceived {
  path: string
  headers: http.IncomingHttpHeaders
  body: Buffer
}

/**
 * A push service as RFC 8030 describes it, on loopback: POST /push/<id> takes a message and answers
 * 201 with a Location; a test can make a subscription gone (410) or the service busy (429).
 */
export function pushService(port: number) {
  const received: PushReceived[] = []
  const answers = new Map<string, { status: number; headers?: Record<string, string> }>()
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const path = req.url ?? '/'
      if (req.method !== 'POST' || !path.startsWith('/push/')) {
        res.writeHead(404).end()
        return
      }
      // RFC 8030 §5.2: TTL is required.
      if (req.headers.ttl === undefined) {
        res.writeHead(400).end('TTL required')
        return
      }
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks) })
      const a = answers.get(path)
      if (a) {
        res.writeHead(a.status, a.headers).end()
        return
      }
      res.writeHead(201, { location: `/message/${received.length}`, ttl: String(req.headers.ttl) }).end()
    })
  })
  const listening = new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()))
  return {
    listening,
    origin: `http://127.0.0.1:${port}`,
    received,
    /** Answers POSTs to this path with this status from now on. */
    answer: (path: string, status: number, headers?: Record<string, string>) => answers.set(path, { status, headers }),
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}
export type PushService = ReturnType<typeof pushService>

/** A browser's side of a subscription: its key pair and auth secret, and the JSON it hands the page. */
export function browserSubscription(endpoint: string) {
  const ecdh = createECDH('prime256v1')
  ecdh.generateKeys()
  const auth = randomBytes(16)
  return {
    json: { endpoint, expirationTime: null, keys: { p256dh: ecdh.getPublicKey('base64url'), auth: auth.toString('base64url') } },
    decrypt: (body: Buffer) => JSON.parse(decryptPush(body, { privateKey: ecdh.getPrivateKey(), auth }).toString('utf8')) as unknown,
  }
}
