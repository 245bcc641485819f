/** CONNACK return codes of MQTT 3.1.1 (section 3.2.2.3); there are no others. */
export const Connack = {
  unacceptableProtocolVersion: 1,
  identifierRejected: 2,
  serverUnavailable: 3,
  badUserNameOrPassword: 4,
  notAuthorized: 5,
} as const
export type ConnackCode = (typeof Connack)[keyof typeof Connack]

export interface Violation {
  /** The `reason` label of sp_mqtt_refused_total. */
  reason: string
  /** The normative statement broken, for the log line. */
  statement?: string
  /** Answer with this CONNACK before closing; absent: close without one. */
  connack?: ConnackCode
  /** More for the log line (never the packet's bytes). */
  detail?: Record<string, unknown>
}

/**
 * The error a connection is closed with when the packet guard refuses a packet.
 * It reaches Aedes's clientError/connectionError events, where the broker counts it.
 */
export class ProtocolViolation extends Error {
  readonly violation: Violation
  constructor(violation: Violation) {
    super(`mqtt protocol violation: ${violation.reason}${violation.statement ? ` [${violation.statement}]` : ''}`)
    this.violation = violation
  }
}
