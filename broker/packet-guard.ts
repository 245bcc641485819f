import { Duplex } from 'node:stream'

/**
 * Wraps a connection so that an MQTT packet whose declared length exceeds
 * `maxBytes` closes the connection as soon as its fixed header arrives, before
 * the broker's parser buffers the body. Aedes's parser has no size limit of its own.
 * Bytes are passed through unchanged; only fixed headers are inspected.
 */
export function guardPackets(inner: Duplex, maxBytes: number, onRefuse: (reason: 'oversize' | 'malformed', size: number) => void): Duplex {
  let remaining = 0 // body bytes still to skip in the current packet
  let inLength = false // reading the variable-length "remaining length" field
  let length = 0
  let multiplier = 1
  let lengthBytes = 0

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
      inner.destroy()
      cb(err)
    },
  })

  // Returns the number of bytes of `chunk` that belong to acceptable packets, or -1 to refuse.
  const scan = (chunk: Buffer): number => {
    let i = 0
    while (i < chunk.length) {
      if (remaining > 0) {
        const take = Math.min(remaining, chunk.length - i)
        remaining -= take
        i += take
        continue
      }
      if (!inLength) {
        inLength = true
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
          return -1
        }
        continue
      }
      inLength = false
      if (length > maxBytes) {
        onRefuse('oversize', length)
        return -1
      }
      remaining = length
    }
    return i
  }

  inner.on('data', (chunk: Buffer) => {
    if (scan(chunk) < 0) {
      inner.destroy()
      return
    }
    if (!outer.push(chunk)) inner.pause()
  })
  inner.on('end', () => outer.push(null))
  inner.on('error', (e) => outer.destroy(e))
  inner.on('close', () => outer.destroy())
  return outer
}
