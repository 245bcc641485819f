import { stringFault, unacceptableString } from './mqtt-strings.ts'
import { PacketReader } from './packet-reader.ts'
import { Connack, type Violation } from './protocol-violation.ts'

const malformed = (statement: string): Violation => ({ reason: 'connect-malformed', statement })

/**
 * Checks a CONNECT packet's variable header and payload (the bytes after the fixed
 * header) against MQTT 3.1.1 section 3.1, before Aedes sees it. mqtt-packet accepts
 * several of these cases and refuses others without the CONNACK the standard asks
 * for; upstream fixes would make most of this redundant (mqtt-packet issue 157).
 * Where the standard leaves a choice, this does what Mosquitto's handle__connect does.
 */
export function checkConnect(body: Buffer): Violation | null {
  const r = new PacketReader(body)
  const name = r.field()
  const level = r.u8()
  if (name === null || level === null) return malformed('MQTT-3.1.2-1')
  const protocol = name.toString('latin1')
  // A name that is not MQTT's: the Server MAY disconnect [MQTT-3.1.2-1]; Mosquitto closes without a CONNACK.
  if (protocol !== 'MQTT' && protocol !== 'MQIsdp') return { reason: 'protocol-name-invalid', statement: 'MQTT-3.1.2-1' }
  // 3.1.1 is level 4 named MQTT; 3.1 (MQIsdp, level 3) is still served because Aedes speaks it. Like Mosquitto,
  // the bridge bit (0x80) is ignored and a name and level that do not belong together count as unsupported.
  const supported = (level & 0x7f) === (protocol === 'MQTT' ? 4 : 3)
  if (!supported) {
    return {
      reason: 'protocol-level-unsupported',
      statement: 'MQTT-3.1.2-2',
      connack: Connack.unacceptableProtocolVersion,
      detail: { protocolLevel: level },
    }
  }

  const flags = r.u8()
  if (flags === null || r.u16() === null) return malformed('MQTT-3.1.2-1')
  if (flags & 0x01) return { reason: 'connect-reserved-flag', statement: 'MQTT-3.1.2-3' }
  const will = (flags & 0x04) !== 0
  const willQos = (flags >> 3) & 0x03
  if (will && willQos === 3) return { reason: 'will-qos-invalid', statement: 'MQTT-3.1.2-14' }
  if (!will && willQos !== 0) return { reason: 'will-flags-without-will', statement: 'MQTT-3.1.2-13' }
  if (!will && flags & 0x20) return { reason: 'will-flags-without-will', statement: 'MQTT-3.1.2-15' }
  const hasUser = (flags & 0x80) !== 0
  const hasPassword = (flags & 0x40) !== 0
  if (hasPassword && !hasUser) return { reason: 'password-without-username', statement: 'MQTT-3.1.2-22' }
  const clean = (flags & 0x02) !== 0

  const clientIdBytes = r.field()
  if (clientIdBytes === null) return malformed('MQTT-3.1.3-3')
  if (clientIdBytes.length === 0) {
    if (protocol === 'MQIsdp')
      return { reason: 'client-id-empty', statement: 'MQTT 3.1: 1 to 23 characters', connack: Connack.identifierRejected }
    if (!clean) return { reason: 'empty-client-id-persistent', statement: 'MQTT-3.1.3-8', connack: Connack.identifierRejected }
  }
  const clientId = clientIdBytes.toString('utf8')
  if (unacceptableString(clientId)) {
    const fault = stringFault(clientId)
    // Ill-formed UTF-8 and NUL: close [MQTT-1.5.3-1, -2]. A control character is well-formed; refusing the
    // identifier then needs CONNACK 0x02 [MQTT-3.1.3-9] (Mosquitto closes without one, the standard is explicit).
    return fault === 'control-character'
      ? { reason: 'client-id-malformed', statement: 'MQTT-3.1.3-9', connack: Connack.identifierRejected, detail: { fault } }
      : { reason: 'client-id-malformed', statement: 'MQTT-1.5.3-1', detail: { fault } }
  }

  if (will) {
    const topicBytes = r.field()
    if (topicBytes === null || r.field() === null) return malformed('MQTT-3.1.2-9')
    const topic = topicBytes.toString('utf8')
    if (unacceptableString(topic))
      return { reason: 'will-topic-malformed', statement: 'MQTT-1.5.3-1', detail: { fault: stringFault(topic) } }
    // A will topic is a topic name: not empty [MQTT-4.7.3-1], no wildcards [MQTT-3.3.2-2]. Mosquitto closes.
    if (topic.length === 0 || topic.includes('#') || topic.includes('+')) return { reason: 'will-topic-invalid', statement: 'MQTT-3.3.2-2' }
  }
  if (hasUser) {
    const userBytes = r.field()
    if (userBytes === null) return malformed('MQTT-3.1.2-19')
    const user = userBytes.toString('utf8')
    if (unacceptableString(user)) {
      const fault = stringFault(user)
      // A well-formed name with control characters is "malformed data in the user name": CONNACK 0x04 (3.2.2.3).
      return fault === 'control-character'
        ? { reason: 'username-malformed', statement: 'MQTT-3.1.3-11', connack: Connack.badUserNameOrPassword, detail: { fault } }
        : { reason: 'username-malformed', statement: 'MQTT-1.5.3-1', detail: { fault } }
    }
  }
  if (hasPassword && r.field() === null) return malformed('MQTT-3.1.2-21')
  // Bytes left over are a will, user name or password the flags do not announce [MQTT-3.1.2-11, -18, -20];
  // Mosquitto refuses surplus data too.
  if (!r.done()) return { reason: 'connect-surplus-data', statement: 'MQTT-3.1.2-18' }
  return null
}
