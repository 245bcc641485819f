/** Marks an error whose refusal was already counted where it was decided (the broker's own hooks). */
const COUNTED = Symbol('refusal counted')

export function counted<E extends Error>(err: E): E {
  return Object.assign(err, { [COUNTED]: true })
}

/**
 * Aedes's own reasons for closing a connection, by the message it closes with
 * (lib/handlers/*.js, lib/client.js; checked by the conformance tests, so a changed
 * message fails a test rather than going uncounted). Errors that are not a refusal
 * (a peer that reset, a keep-alive that ran out, a slow reader) map to null.
 */
const BY_MESSAGE: [RegExp, string][] = [
  [/^connect did not arrive in time/, 'connect-timeout'],
  [/^empty topic not allowed in PUBLISH/, 'topic-empty'],
  [/^[#+] is not allowed in PUBLISH/, 'topic-wildcard'],
  [/^topic has too many levels/, 'topic-too-deep'],
  [/^impossible to (UN)?SUBSCRIBE to an empty topic|is only allowed in (UN)?SUBSCRIBE/, 'filter-invalid'],
  [/^maxInflightInbound exceeded/, 'qos2-inflight-exceeded'],
  [/^Client queue limit reached/, 'queue-limit'],
  [/^Invalid protocol$/, 'protocol-violation'],
]

/**
 * The refusal reason for an error Aedes reports on a connection, or null. `fromParser`:
 * mqtt-packet could not parse what the client sent (a malformed packet).
 */
export function refusalReason(err: Error, fromParser: boolean): string | null {
  if ((err as { [COUNTED]?: true })[COUNTED]) return null
  if (fromParser) return 'packet-malformed'
  for (const [re, reason] of BY_MESSAGE) if (re.test(err.message)) return reason
  return null
}
