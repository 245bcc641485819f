import { connect, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { createWebSocketStream, WebSocket } from 'ws'

// A minimal MQTT 3.1.1 encoder that can also write what a real client library refuses to:
// malformed UTF-8, NUL bytes, duplicate packet ids, oversize packets.

export const str = (s: string | Buffer) => {
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

/** Any packet: a first byte and a body, with the remaining length in between. */
export const packet = (header: number, body: Buffer) => Buffer.concat([Buffer.from([header]), varint(body.length), body])

export const u16 = (n: number) => {
  const b = Buffer.alloc(2)
  b.writeUInt16BE(n)
  return b
}

export interface ConnectOpts {
  clientId: string | Buffer
  username?: string
  password?: string
  clean?: boolean
  will?: { topic: string | Buffer; payload: string; retain?: boolean; qos?: 0 | 1 | 2 | 3 }
  /** Seconds; 60 unless given. */
  keepalive?: number
  /** Protocol name and level; MQTT 3.1.1's unless given. */
  protocol?: { name: string; level: number }
  /** Bits OR-ed into the connect flags whatever the fields say (reserved bit, will flags without a will…). */
  extraFlags?: number
  /** Bytes appended to the payload, which no flag announces. */
  trailing?: Buffer
}

export function connectPacket(o: ConnectOpts): Buffer {
  let flags = o.clean === false ? 0 : 0x02
  if (o.will) flags |= 0x04 | ((o.will.qos ?? 0) << 3) | (o.will.retain ? 0x20 : 0)
  if (o.username !== undefined) flags |= 0x80
  if (o.password !== undefined) flags |= 0x40
  flags |= o.extraFlags ?? 0
  const { name, level } = o.protocol ?? { name: 'MQTT', level: 4 }
  const parts: Buffer[] = [str(name), Buffer.from([level, flags]), u16(o.keepalive ?? 60), str(o.clientId)]
  if (o.will) parts.push(str(o.will.topic), str(o.will.payload))
  if (o.username !== undefined) parts.push(str(o.username))
  if (o.password !== undefined) parts.push(str(o.password))
  if (o.trailing) parts.push(o.trailing)
  return packet(0x10, Buffer.concat(parts))
}

export function publishPacket(o: {
  topic: string | Buffer
  payload: string | Buffer
  qos?: 0 | 1 | 2
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
  /** Waits until the bytes received so far contain `bytes`. */
  receivedWithin(bytes: Buffer, ms?: number): Promise<boolean>
  end(): void
}

/** The same over WebSocket, where there is no TCP socket to hand out. */
export type RawSession = Omit<RawClient, 'socket'>

/** `localAddress` (e.g. 127.0.0.2) makes the connection come from another loopback address. */
export function rawClient(port: number, opts: { localAddress?: string } = {}): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', ...opts })
    socket.once('connect', () => resolve({ socket, ...session(socket) }))
    socket.once('error', reject)
  })
}

/** MQTT over WebSocket (subprotocol "mqtt"), for comparing the WebSocket listener's answers. */
export function rawWsClient(port: number): Promise<RawSession> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, 'mqtt')
    ws.once('open', () => {
      const stream = createWebSocketStream(ws)
      resolve(session(stream))
    })
    ws.once('error', reject)
  })
}

function session(socket: Duplex): RawSession {
  let data = Buffer.alloc(0)
  let closed = false
  const closeWaiters: (() => void)[] = []
  const dataWaiters: (() => void)[] = []
  socket.on('data', (b) => {
    data = Buffer.concat([data, b])
    for (const w of dataWaiters.splice(0)) w()
  })
  socket.on('error', () => {})
  const onClosed = () => {
    closed = true
    for (const w of closeWaiters.splice(0)) w()
    for (const w of dataWaiters.splice(0)) w()
  }
  socket.on('close', onClosed)
  // A WebSocket stream only ends when the server closes; it is not destroyed until our side ends too.
  socket.on('end', onClosed)
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
  return {
    send: (b) => {
      socket.write(b)
    },
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
        for (let i = 0; i + 3 < data.length; i++) if (data[i] === 0x40 && data[i + 1] === 2 && data.readUInt16BE(i + 2) === id) return true
        return false
      }, ms),
    receivedWithin: (bytes, ms = 3_000) => until(() => data.includes(bytes), ms),
    end: () => {
      socket.destroy()
    },
  }
}
