import { Socket } from 'node:net'
import { Duplex } from 'node:stream'
import { checkConnect } from './connect-check.ts'
import { ProtocolViolation, type Violation } from './protocol-violation.ts'
import { checkSubscribe } from './subscribe-check.ts'

/**
 * The guarded stream. `peer` is the TCP or TLS socket underneath, when there is one
 * (not for WebSocket, whose socket is on the upgrade request); `remoteAddress` is
 * its address, kept because a closed socket no longer reports it.
 */
export type GuardedStream = Duplex & { readonly peer: Socket | undefined; readonly remoteAddress: string | undefined }

const CONNECT = 1
const PUBLISH = 3
const SUBSCRIBE = 8
const UNSUBSCRIBE = 10

/** A peer that does not read its CONNACK does not hold the socket open longer than this. */
const CONNACK_LINGER_MS = 2_000

/**
 * Wraps a connection so that an MQTT packet whose declared length exceeds
 * `maxBytes` closes the connection as soon as its fixed header arrives, before
 * the broker's parser buffers the body. Aedes's parser has no size limit of its own.
 *
 * It also refuses, on the bytes, the protocol violations Aedes and mqtt-packet let
 * through or answer wrongly: a first packet that is not CONNECT, a second CONNECT,
 * a CONNECT that breaks section 3.1 (see connect-check.ts; answered with the CONNACK
 * code the standard asks for), a QoS 0 PUBLISH with DUP set, and malformed SUBSCRIBE
 * and UNSUBSCRIBE packets. Such a refusal destroys the stream with a ProtocolViolation,
 * which Aedes reports as a client or connection error.
 *
 * Bytes are passed through unchanged. PUBLISH costs a look at its first byte; only
 * CONNECT, SUBSCRIBE and UNSUBSCRIBE bodies (rare, and bounded by `maxBytes`) are kept
 * until complete to be checked.
 */
export function guardPackets(
  inner: Duplex,
  maxBytes: number,
  onRefuse: (reason: 'oversize' | 'malformed', size: number) => void,
): GuardedStream {
  let remaining = 0 // body bytes still to skip in the current packet
  let inLength = false // reading the variable-length "remaining length" field
  let header = 0
  let length = 0
  let multiplier = 1
  let lengthBytes = 0
  let packets = 0
  let kept: Buffer[] | null = null // the body of a packet being checked
  let stopped = false
  let lingering = false // ending after a CONNACK: let it leave before the socket closes

  const outer = new Duplex({
    allowHalfOpen: false,
    read() {
      inner.resume()
    },
    write(chunk, _enc, cb) {
      inner.write(chunk, cb)
    },
    // While one write is in flight the stream queues the next ones; they leave
    // together, so the PUBACKs of one spool commit cost one syscall, not one each.
    writev(chunks, cb) {
      inner.write(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk as Buffer)), cb)
    },
    final(cb) {
      inner.end()
      cb()
    },
    destroy(err, cb) {
      if (!lingering) inner.destroy()
      cb(err)
    },
  }) as GuardedStream
  const peer = inner instanceof Socket ? inner : undefined
  Object.defineProperties(outer, { peer: { value: peer }, remoteAddress: { value: peer?.remoteAddress } })

  // What to do once a fixed header is complete: null to pass the packet on, 'keep' to check its body first.
  const onHeader = (): Violation | 'keep' | null => {
    const type = header >> 4
    if (packets++ === 0) {
      if (type !== CONNECT) return { reason: 'first-packet-not-connect', statement: 'MQTT-3.1.0-1' }
      if (header !== 0x10) return { reason: 'header-flags-invalid', statement: 'MQTT-2.2.2-2' }
      return 'keep'
    }
    if (type === PUBLISH) return (header & 0x0e) === 0x08 ? { reason: 'publish-dup-qos0', statement: 'MQTT-3.3.1-2' } : null
    if (type === CONNECT) return { reason: 'second-connect', statement: 'MQTT-3.1.0-2' }
    return type === SUBSCRIBE || type === UNSUBSCRIBE ? 'keep' : null
  }

  const checkKept = (body: Buffer): Violation | null => {
    const type = header >> 4
    if (type === CONNECT) return checkConnect(body)
    return checkSubscribe(body, type === SUBSCRIBE ? 'subscribe' : 'unsubscribe')
  }

  let violation: Violation | null = null
  // Returns false when the connection is to be refused (`violation` says why, unless it was the size).
  const scan = (chunk: Buffer): boolean => {
    let i = 0
    while (i < chunk.length) {
      if (remaining > 0) {
        const take = Math.min(remaining, chunk.length - i)
        if (kept) kept.push(chunk.subarray(i, i + take))
        remaining -= take
        i += take
        if (remaining === 0 && kept) {
          violation = checkKept(kept.length === 1 ? kept[0]! : Buffer.concat(kept))
          kept = null
          if (violation) return false
        }
        continue
      }
      if (!inLength) {
        inLength = true
        header = chunk[i]!
        length = 0
        multiplier = 1
        lengthBytes = 0
        i++
        continue
      }
      const b = chunk[i++]!
      length += (b & 0x7f) * multiplier
      multiplier *= 128
      lengthBytes++
      if (b & 0x80) {
        if (lengthBytes >= 4) {
          onRefuse('malformed', length)
          return false
        }
        continue
      }
      inLength = false
      if (length > maxBytes) {
        onRefuse('oversize', length)
        return false
      }
      const next = onHeader()
      if (next === 'keep') {
        if (length === 0) {
          violation = checkKept(Buffer.alloc(0))
          if (violation) return false
        } else kept = []
      } else if (next) {
        violation = next
        return false
      }
      remaining = length
    }
    return true
  }

  const refuse = () => {
    stopped = true
    const v = violation
    if (!v) {
      inner.destroy()
      return
    }
    if (v.connack !== undefined) {
      // [MQTT-3.2.2-5]: the CONNACK goes out, then the connection is closed.
      lingering = true
      inner.end(Buffer.from([0x20, 0x02, 0x00, v.connack]))
      const t = setTimeout(() => inner.destroy(), CONNACK_LINGER_MS)
      t.unref()
      inner.once('close', () => clearTimeout(t))
    } else inner.destroy()
    outer.destroy(new ProtocolViolation(v))
  }

  inner.on('data', (chunk: Buffer) => {
    if (stopped) return
    if (!scan(chunk)) {
      refuse()
      return
    }
    if (!outer.push(chunk)) inner.pause()
  })
  inner.on('end', () => outer.push(null))
  inner.on('error', (e) => outer.destroy(e))
  inner.on('close', () => outer.destroy())
  return outer
}
