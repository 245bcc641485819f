import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeConnections, requestPinned } from '../../outbox/http-post.ts'

describe('pinned requests keep their connection alive', () => {
  let server: Server
  let port: number
  const sockets: Socket[] = []
  let requests = 0
  let resetNext = false
  beforeAll(async () => {
    server = createServer((req, res) => {
      requests++
      if (resetNext) {
        resetNext = false
        req.socket.resetAndDestroy()
        return
      }
      req.resume()
      req.on('end', () => res.writeHead(204).end())
    })
    server.on('connection', (s) => sockets.push(s))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    port = (server.address() as AddressInfo).port
  })
  afterAll(async () => {
    closeConnections()
    await new Promise((r) => server.close(r))
  })
  const post = (idempotent: boolean) =>
    requestPinned('POST', new URL(`http://receiver.test:${port}/in`), '{}', {
      address: { address: '127.0.0.1', family: 4 },
      timeoutMs: 1000,
      headers: {},
      idempotent,
    })

  it('sends one delivery after another on one connection', async () => {
    for (let i = 0; i < 5; i++) expect((await post(true)).status).toBe(204)
    expect(sockets.length).toBe(1)
    expect(requests).toBe(5)
  })

  it('tries once more on a new connection when a kept one was reset as it was reused, only if a second copy is harmless', async () => {
    // The receiver resets the kept connection as the next request arrives on it (its idle timeout fired).
    expect((await post(true)).status).toBe(204)
    const [before, connections] = [requests, sockets.length]
    resetNext = true
    expect((await post(true)).status).toBe(204)
    expect([requests - before, sockets.length - connections]).toEqual([2, 1])

    // An Open311 request is not idempotent: the error is the answer, and the sender's backoff decides.
    resetNext = true
    await expect(post(false)).rejects.toMatchObject({ code: 'ECONNRESET', reusedSocket: true })
    expect(requests - before).toBe(3)
  })
})
