import { stringFault, unacceptableString } from './mqtt-strings.ts'
import { PacketReader } from './packet-reader.ts'
import type { Violation } from './protocol-violation.ts'

/**
 * Checks a SUBSCRIBE or UNSUBSCRIBE body (after the fixed header). Aedes has no hook
 * for UNSUBSCRIBE, and mqtt-packet takes a packet with only a packet id as an empty
 * list (its length test counts the id), so these are checked on the bytes. Topic
 * filter syntax (wildcard placement) is left to Aedes's validateTopic.
 */
export function checkSubscribe(body: Buffer, kind: 'subscribe' | 'unsubscribe'): Violation | null {
  const r = new PacketReader(body)
  const id = r.u16()
  if (id === null) return { reason: `${kind}-malformed`, statement: 'MQTT-2.3.1-1' }
  if (id === 0) return { reason: 'packet-id-zero', statement: 'MQTT-2.3.1-1', detail: { packet: kind } }
  if (r.done()) return { reason: `${kind}-empty`, statement: kind === 'subscribe' ? 'MQTT-3.8.3-3' : 'MQTT-3.10.3-2' }
  while (!r.done()) {
    const filterBytes = r.field()
    if (filterBytes === null || (kind === 'subscribe' && r.u8() === null)) return { reason: `${kind}-malformed`, statement: 'MQTT-1.5.3' }
    const filter = filterBytes.toString('utf8')
    // An empty filter [MQTT-4.7.3-1]; malformed UTF-8 or NUL [MQTT-1.5.3-1, -2]; control characters (1.5.3: MAY close; Mosquitto does).
    if (filter.length === 0) return { reason: 'filter-invalid', statement: 'MQTT-4.7.3-1', detail: { packet: kind } }
    if (unacceptableString(filter))
      return { reason: 'filter-malformed', statement: 'MQTT-1.5.3-1', detail: { packet: kind, fault: stringFault(filter) } }
  }
  return null
}
