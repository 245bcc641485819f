/**
 * Characters the broker does not accept in a topic, filter, client id, user name
 * or will topic:
 * - U+0000 [MQTT-1.5.3-2] and ill-formed UTF-8 [MQTT-1.5.3-1], which Node's decoder
 *   turns into U+FFFD (so a well-formed U+FFFD is refused too);
 * - U+0001–U+001F and U+007F–U+009F control characters and the non-characters
 *   (U+FDD0–U+FDEF, and U+xFFFE, U+xFFFF in every plane): section 1.5.3 lets the
 *   receiver close the connection, and Mosquitto does (mosquitto_validate_utf8).
 * A loop over char codes allocates nothing, so it is cheap enough for every PUBLISH.
 */
export function unacceptableString(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c <= 0x1f || (c >= 0x7f && c <= 0x9f) || (c >= 0xfdd0 && c <= 0xfdef) || c >= 0xfffd) return true
    // A surrogate pair: the non-characters U+1FFFE, U+1FFFF … U+10FFFF end in FFFE or FFFF.
    if (c >= 0xd800 && c <= 0xdbff && (s.charCodeAt(++i) & 0x3fe) === 0x3fe && (c & 0x3f) === 0x3f) return true
  }
  return false
}

/** Which of the refused kinds `s` contains, for the refusal reason (a non-character counts as a control character). */
export const stringFault = (s: string): 'nul' | 'malformed-utf8' | 'control-character' =>
  s.includes('\u0000') ? 'nul' : s.includes('\ufffd') ? 'malformed-utf8' : 'control-character'
