import { type AddressInfo, connect, createServer, type Socket } from 'node:net'

/**
 * A TCP relay in front of a local port: a phone's network between the browser and the service.
 * `cut()` drops every connection through it and refuses new ones until `mend()`, as a lost signal
 * does, whichever thread of the page (its own, or a worker) holds the connection.
 */
export async function tcpRelay(port: number) {
  const open = new Set<Socket>()
  let down = false
  const server = createServer((client) => {
    if (down) return client.destroy()
    const upstream = connect(port, '127.0.0.1')
    const drop = () => {
      client.destroy()
      upstream.destroy()
      open.delete(client)
      open.delete(upstream)
    }
    for (const s of [client, upstream]) {
      open.add(s)
      s.on('error', drop).on('close', drop)
    }
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut() {
      down = true
      for (const s of open) s.destroy()
      open.clear()
    },
    mend() {
      down = false
    },
    close() {
      this.cut()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
