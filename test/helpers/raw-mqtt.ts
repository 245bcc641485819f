import { connect, type Socket } from 'node:net'

// A minimal MQTT 3.1.1 encoder that can also write what a real client library refuses to:
// malformed UTF-8, NUL bytes, duplicate packet ids, oversize packets.

const str = (s: string | Buffer) => {
  const b = typeof s === 'string' ? Buffer.from(s) : s
  const len = Buffer.alloc(2)
  len.writeUInt16BE(b.length)
  return Buffer.concat([len, b])
}

const varint = (n: number) => {
  const out: number[] = []
  do {
    let byte = n % 128
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    out.push(byte)
  } while (n > 0)
  return Buffer.from(out)
}

const packet = (header: number, body: Buffer) => Buffer.concat([Buffer.from([header]), varint(body.length), body])

export interface ConnectOpts {
  clientId: string | Buffer
  username?: string
  password?: string
  clean?: boolean
  will?: { topic: string | Buffer; payload: string; retain?: boolean; qos?: 0 | 1 }
}

export function connectPacket(o: ConnectOpts): Buffer {
  let flags = o.clean === false ? 0 : 0x02
  if (o.will) flags |= 0x04 | ((o.will.qos ?? 0) << 3) | (o.will.retain ? 0x20 : 0)
  if (o.username !== undefined) flags |= 0x80
  if (o.password !== undefined) flags |= 0x40
  const parts = [str('MQTT'), Buffer.from([4, flags, 0, 60]), str(o.clientId)]
  if (o.will) parts.push(str(o.will.topic), str(o.will.payload))
  if (o.username !== undefined) parts.push(str(o.username))
  if (o.password !== undefined) parts.push(str(o.password))
  return packet(0x10, Buffer.concat(parts))
}

export function publishPacket(o: {
  topic: string | Buffer
  payload: string | Buffer
  qos?: 0 | 1
  id?: number
  dup?: boolean
  retain?: boolean
}): Buffer {
  const qos = o.qos ?? 1
  const header = 0x30 | (o.dup ? 0x08 : 0) | (qos << 1) | (o.retain ? 0x01 : 0)
  const id = Buffer.alloc(qos ? 2 : 0)
  if (qos) id.writeUInt16BE(o.id ?? 1)
  return packet(header, Buffer.concat([str(o.topic), id, typeof o.payload === 'string' ? Buffer.from(o.payload) : o.payload]))
}

export interface RawClient {
  socket: Socket
  send(b: Buffer): void
  /** Bytes received so far. */
  received(): Buffer
  /** Resolves true when the server closes the connection within `ms`. */
  closedWithin(ms: number): Promise<boolean>
  /** The CONNACK return code, or null if the server closed without one. */
  connack(ms?: number): Promise<number | null>
  /** Waits for a PUBACK for `id`. */
  puback(id: number, ms?: number): Promise<boolean>
  end(): void
}

export function rawClient(port: number): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let data = Buffer.alloc(0)
    let closed = false
    const closeWaiters: (() => void)[] = []
    const dataWaiters: (() => void)[] = []
    socket.on('data', (b) => {
      data = Buffer.concat([data, b])
      for (const w of dataWaiters.splice(0)) w()
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      closed = true
      for (const w of closeWaiters.splice(0)) w()
      for (const w of dataWaiters.splice(0)) w()
    })
    const until = async (cond: () => boolean, ms: number) => {
      const deadline = Date.now() + ms
      while (!cond() && !closed && Date.now() < deadline) {
        await new Promise<void>((r) => {
          dataWaiters.push(r)
          setTimeout(r, Math.max(1, deadline - Date.now()))
        })
      }
      return cond()
    }
    socket.once('connect', () =>
      resolve({
        socket,
        send: (b) => socket.write(b),
        received: () => data,
        closedWithin: (ms) =>
          closed
            ? Promise.resolve(true)
            : new Promise((r) => {
                const t = setTimeout(() => r(closed), ms)
                closeWaiters.push(() => {
                  clearTimeout(t)
                  r(true)
                })
              }),
        async connack(ms = 3_000) {
          await until(() => data.length >= 4, ms)
          return data.length >= 4 && data[0] === 0x20 ? data[3]! : null
        },
        puback: (id, ms = 3_000) =>
          until(() => {
            for (let i = 0; i + 3 < data.length; i++)
              if (data[i] === 0x40 && data[i + 1] === 2 && data.readUInt16BE(i + 2) === id) return true
            return false
          }, ms),
        end: () => socket.destroy(),
      }),
    )
    socket.once('error', reject)
  })
}
