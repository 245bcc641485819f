/**
 * Repeated uplinks. The same uplink reaches us more than once: a webhook retried, the MQTT
 * integration and the webhook both on, a Storage Integration catch-up over a time already
 * seen (each with the same Application Server `received_at`), and a confirmed uplink the
 * device sent again for want of an ACK (same `f_cnt`, a later `received_at`, seconds apart).
 *
 * The frame counter alone cannot tell: it starts again at 0 when an OTAA device rejoins (and
 * on an ABP device's reset), so an old counter value comes round again. The rule (ours):
 * an uplink is a repeat when this device already had one with the same `f_cnt` whose
 * `received_at` lies within RETRANSMIT_WINDOW_MS of it, unless both carry a session key id
 * and they differ (a rejoin made a new session). Everything else is a new reading: a lower
 * counter with a newer time is a reset; a lower counter with an older time is a late one
 * (a catch-up after an outage), which is kept too.
 */
export interface Frame {
  fCnt: number
  /** Application Server received_at, epoch ms. */
  receivedAt: number
  /** `uplink_message.session_key_id` when TTS sent it; changes at each join. */
  session: string | null
}

/** Ours: confirmed-uplink retries come seconds apart; a reset device needs hours to count back to a recent value. */
export const RETRANSMIT_WINDOW_MS = 10 * 60_000

export function isRepeat(f: Frame, seen: readonly Frame[], windowMs = RETRANSMIT_WINDOW_MS): boolean {
  return seen.some(
    (s) =>
      s.fCnt === f.fCnt &&
      (s.receivedAt === f.receivedAt ||
        (Math.abs(s.receivedAt - f.receivedAt) <= windowMs && !(s.session && f.session && s.session !== f.session))),
  )
}
