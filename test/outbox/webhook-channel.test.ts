import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Delivery } from '#devices'
import { createTargetPolicy } from '../../outbox/ssrf.ts'
import { createWebhookChannel } from '../../outbox/webhook-channel.ts'
import { newWebhookSecret } from '../../store/webhook-store.ts'

type Handler = (req: IncomingMessage, res: ServerResponse) => void

describe('webhook channel against a real HTTP receiver', () => {
  let server: Server
  let port: number
  let handler: Handler = (_req, res) => res.writeHead(204).end()
  const seen: { host: string | undefined; url: string | undefined; headers: IncomingMessage['headers']; body: string }[] = []
  const { secret, key } = newWebhookSecret()

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => {
        body += c.toString()
      })
      req.on('end', () => {
        seen.push({ host: req.headers.host, url: req.url, headers: req.headers, body })
        handler(req, res)
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    port = (server.address() as AddressInfo).port
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  })

  // receiver.test resolves (in this test's resolver only) to the loopback receiver, and is allowed by name:
  // the request reaching it shows the connection goes to the checked address, not to a second DNS answer.
  let answer = ['127.0.0.1']
  const policy = createTargetPolicy(['receiver.test'], async (host) => {
    if (host === 'receiver.test') return answer.map((address) => ({ address, family: 4 }))
    if (host === 'rebind.test') return [{ address: '127.0.0.1', family: 4 }]
    throw new Error('ENOTFOUND')
  })
  const delivery = (target: string): Delivery => ({
    ...{ id: 1, eventId: 'msg_ah1', eventType: 'alert.raised', channel: 'webhook', target, payload: '{"type":"alert.raised","n":"£"}' },
    ...{ state: 'pending', attempts: 0, createdAt: '', firstAttemptAt: null, lastAttemptAt: null, nextAttemptAt: null },
    ...{ lastError: null, deliveredAt: null },
  })
  const channel = (url: () => string, timeoutMs = 1000) =>
    createWebhookChannel({
      webhooks: { signing: async (id) => (id === 'gone' ? null : { url: url(), keys: [key], changesAt: null }) },
      policy,
      timeoutMs,
    })

  it("keeps a subscription's keys between deliveries for a while, never past the previous key's overlap, and forgets them on forget()", async () => {
    let reads = 0
    let t = 1_000_000
    let answer: { url: string; keys: Buffer[]; changesAt: number | null } = {
      url: `http://receiver.test:${port}/hook`,
      keys: [key, Buffer.alloc(24, 1)],
      changesAt: t + 3_000,
    }
    const ch = createWebhookChannel({
      webhooks: {
        signing: async () => {
          reads++
          return answer
        },
      },
      policy,
      timeoutMs: 1000,
      keysForMs: 10_000,
      now: () => t,
    })
    const signatures = () => String(seen.at(-1)!.headers['webhook-signature']).split(' ').length
    seen.length = 0
    expect(await ch.send(delivery('s'))).toMatchObject({ kind: 'delivered' })
    expect(await ch.send(delivery('s'))).toMatchObject({ kind: 'delivered' })
    expect([reads, signatures()]).toEqual([1, 2])
    // The previous key's overlap ends before the keep period: read again then, and sign with the new key only.
    answer = { ...answer, keys: [key], changesAt: null }
    t += 3_000
    expect(await ch.send(delivery('s'))).toMatchObject({ kind: 'delivered' })
    expect([reads, signatures()]).toEqual([2, 1])
    t += 9_999
    await ch.send(delivery('s'))
    expect(reads).toBe(2)
    t += 1
    await ch.send(delivery('s'))
    expect(reads).toBe(3)
    // A rotation or deletion: the outbox calls forget(), and the next delivery reads the store.
    ch.forget()
    answer = { ...answer, url: `http://receiver.test:${port}/moved` }
    await ch.send(delivery('s'))
    expect([reads, seen.at(-1)!.url]).toEqual([4, '/moved'])

    // A read that began before a rotation and ends after its forget(): what it read is used once, never kept.
    let release = () => {}
    const slow = new Promise<void>((r) => (release = r))
    let slowReads = 0
    const racing = createWebhookChannel({
      webhooks: {
        signing: async () => {
          slowReads++
          if (slowReads === 1) await slow
          return answer
        },
      },
      policy,
      timeoutMs: 1000,
      now: () => t,
    })
    const first = racing.send(delivery('s'))
    racing.forget()
    release()
    await first
    await racing.send(delivery('s'))
    expect(slowReads).toBe(2)
  })

  it('POSTs the exact body, signed so the reference library verifies it, to the checked address', async () => {
    seen.length = 0
    const out = await channel(() => `http://receiver.test:${port}/hook?x=1`).send(delivery('s'))
    expect(out).toEqual({ kind: 'delivered', status: 204 })
    expect(seen).toHaveLength(1)
    expect(seen[0]!.host).toBe(`receiver.test:${port}`)
    expect(seen[0]!.body).toBe('{"type":"alert.raised","n":"£"}')
    expect(seen[0]!.headers['webhook-id']).toBe('msg_ah1')
    expect(new Webhook(secret).verify(seen[0]!.body, seen[0]!.headers as Record<string, string>)).toMatchObject({ type: 'alert.raised' })
  })

  it('judges the answer: 410 dead, 3xx not followed, 429 with Retry-After, 500 retried, a slow answer timed out', async () => {
    const send = () => channel(() => `http://receiver.test:${port}/hook`, 300).send(delivery('s'))
    handler = (_req, res) => res.writeHead(410).end('unsubscribed')
    expect(await send()).toEqual({ kind: 'dead', error: '410 Gone: the receiver asked to stop: unsubscribed' })
    seen.length = 0
    handler = (_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${port}/elsewhere` }).end()
    expect(await send()).toMatchObject({ kind: 'retry', error: expect.stringMatching(/^302 redirect to .* not followed/) })
    expect(seen.map((s) => s.host)).toEqual([`receiver.test:${port}`])
    handler = (_req, res) => res.writeHead(429, { 'retry-after': '7' }).end()
    expect(await send()).toEqual({ kind: 'retry', error: 'HTTP 429', afterMs: 7000 })
    handler = (_req, res) => res.writeHead(500).end('boom')
    expect(await send()).toEqual({ kind: 'retry', error: 'HTTP 500: boom', afterMs: undefined })
    handler = (_req, res) => setTimeout(() => res.writeHead(204).end(), 1000)
    expect(await send()).toEqual({ kind: 'retry', error: 'no answer within 300 ms' })
    handler = (_req, res) => res.writeHead(204).end()
  })

  it('refuses at send time a host that now resolves to a private address, and a deleted subscription', async () => {
    seen.length = 0
    expect(await channel(() => `http://rebind.test:${port}/hook`).send(delivery('s'))).toMatchObject({
      kind: 'dead',
      error: expect.stringContaining('loopback address'),
    })
    answer = ['127.0.0.1', '10.0.0.1']
    expect(await channel(() => `http://receiver.test:${port}/hook`).send(delivery('s'))).toMatchObject({ kind: 'delivered' })
    answer = ['127.0.0.1']
    expect(await channel(() => `http://127.0.0.1:${port}/hook`).send(delivery('s'))).toMatchObject({ kind: 'dead' })
    expect(await channel(() => 'http://x').send(delivery('gone'))).toEqual({ kind: 'dead', error: 'the subscription was deleted' })
    expect(seen).toHaveLength(1)
  })
})
