/**
 * Stable codes for errors people see (API answers, quarantine reasons, CLI messages).
 * Each code has a hint that says what to do about it.
 */
export const ERROR_CODES = {
  PAYLOAD_NOT_JSON: 'The payload is not valid JSON. Send UTF-8 JSON: { "ts": <epoch ms or ISO time>, "readings": { ... } }.',
  PAYLOAD_TOO_LARGE: 'The telemetry payload is larger than the limit. Send one reading per message.',
  PAYLOAD_INVALID: 'The payload does not match the device type schema; see issues for each field.',
  INFLUX_REJECTED: 'InfluxDB refused this reading on its own (for example a field type conflict); the rest of its batch landed.',
  TOPIC_INVALID: 'The topic is outside the grammar sp/v1/<site>/<type>/<deviceId>/<channel>.',
  TOPIC_FORBIDDEN: 'A device may publish only to its own topics and subscribe only to its own cmd topic.',
  DEVICE_UNKNOWN: 'The device is not in the registry or has been revoked. Provision it first.',
  DEVICE_TYPE_MISMATCH: 'The topic names a device type that differs from the registered one.',
  TIMESTAMP_OUT_OF_WINDOW: 'The reading time is too far from server time. Check the device clock.',
  UNAUTHENTICATED: 'Sign in (POST /api/auth/sign-in), or send Authorization: Bearer <token> with an API token or ADMIN_TOKEN.',
  NOT_FOUND: 'No such resource.',
  CONFLICT: 'The resource already exists.',
  INVALID_TRANSITION: 'The resource is not in a state that allows this action now; the message says its state and what is possible.',
  BAD_REQUEST: 'The request is invalid; see issues for each field.',
  CONFIG_INVALID: 'One or more environment variables are invalid; each is listed.',
} as const

export type ErrorCode = keyof typeof ERROR_CODES

export class DomainError extends Error {
  readonly code: ErrorCode
  readonly hint: string
  constructor(code: ErrorCode, message?: string) {
    super(message ?? ERROR_CODES[code])
    this.code = code
    this.hint = ERROR_CODES[code]
    this.name = 'DomainError'
  }
}
