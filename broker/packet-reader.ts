/** Reads MQTT's big-endian integers and length-prefixed fields; null when the packet ends too early. */
export class PacketReader {
  private pos = 0
  private readonly buf: Buffer
  constructor(buf: Buffer) {
    this.buf = buf
  }

  u8(): number | null {
    return this.pos < this.buf.length ? this.buf[this.pos++]! : null
  }

  u16(): number | null {
    if (this.pos + 2 > this.buf.length) return null
    const v = this.buf.readUInt16BE(this.pos)
    this.pos += 2
    return v
  }

  /** A two-byte length and that many bytes (a string or binary field). */
  field(): Buffer | null {
    const n = this.u16()
    if (n === null || this.pos + n > this.buf.length) return null
    const v = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return v
  }

  done(): boolean {
    return this.pos === this.buf.length
  }
}
