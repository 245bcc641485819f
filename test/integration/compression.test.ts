import { request } from 'node:http'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startService, type TestService } from '../helpers/service.ts'

describe('compressed responses (issue 11, speed on a phone)', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startService()
    for (let i = 0; i < 60; i++) await svc.provision({ id: `zip-${i}`, type: 'bin', name: `Bin ${i}, Compression Street`, site: 'zip' })
  }, 60_000)
  afterAll(async () => {
    await svc?.close()
  })

  const get = (path: string, encoding: string) =>
    fetch(`${svc.service.httpUrl}${path}`, { headers: { authorization: `Bearer ${svc.token}`, 'accept-encoding': encoding } })
  // fetch() decodes bodies itself; the raw bytes show what crossed the wire.
  const raw = async (res: Response) => Buffer.from(await res.arrayBuffer())

  it('sends a large JSON listing as brotli or gzip when asked, the same JSON once decoded and a fraction of its size', async () => {
    const plain = await get('/api/crew/today', 'identity')
    expect(plain.headers.get('content-encoding')).toBeNull()
    const json = JSON.parse((await raw(plain)).toString()) as { bins: unknown[]; generatedAt?: string }
    expect(json.bins).toHaveLength(60)

    const fetchRaw = (encoding: string) =>
      new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
        const req = request(
          `${svc.service.httpUrl}/api/crew/today`,
          { headers: { authorization: `Bearer ${svc.token}`, 'accept-encoding': encoding } },
          (res) => {
            const parts: Buffer[] = []
            res.on('data', (b: Buffer) => parts.push(b))
            res.on('end', () => resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(parts) }))
          },
        )
        req.once('error', reject)
        req.end()
      })
    const br = await fetchRaw('br')
    expect(br.encoding).toBe('br')
    const gz = await fetchRaw('gzip')
    expect(gz.encoding).toBe('gzip')
    const size = JSON.stringify(json).length
    for (const [body, decode] of [
      [br.body, brotliDecompressSync],
      [gz.body, gunzipSync],
    ] as const) {
      expect(body.length).toBeLessThan(size / 4)
      expect({ ...JSON.parse(decode(body).toString()), generatedAt: json.generatedAt }).toEqual(json)
    }
  })

  it('leaves a small answer as it is', async () => {
    const res = await get('/health', 'br, gzip')
    expect(res.headers.get('content-encoding')).toBeNull()
    await res.arrayBuffer()
  })
})
