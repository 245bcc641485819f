import type { FastifyReply } from 'fastify'
import { z } from 'zod'
import { ERROR_CODES, type ErrorCode, Issue, MAX_PAGE_SIZE, MAX_WINDOW_DAYS } from '#devices'

/**
 * Codes only the HTTP layer gives (it is the only part that throttles clients); they
 * follow the shared catalogue's rule: stable, and each with a hint that says what to do.
 */
export const HTTP_ERROR_CODES = {
  AUTH_THROTTLED:
    'Too many failed authentications from this address (or for this identity). Wait Retry-After seconds, then check the token: each further wrong token blocks for twice as long as the last.',
  FORBIDDEN: 'Your role does not allow this. Ask an administrator if you need it.',
  CSRF_INVALID:
    'Send the x-csrf-token header (from GET /api/me) with every change made with the session cookie; reload the page if it has expired.',
  PASSWORD_CHANGE_REQUIRED: 'Choose a new password first (POST /api/auth/password); the one you have was issued to be used once.',
  SIGN_IN_FAILED: 'The email or password is wrong, or the account cannot sign in. Check both, or ask an administrator.',
  PASSWORD_REJECTED: 'Choose a longer password: at least 12 characters, not a common one, not your email. A few unrelated words work well.',
  SSO_FAILED: 'Signing in through the council identity provider did not complete. Try again; the message says why.',
  DATASET_NOT_PUBLISHED:
    'This dataset is not published. See GET /open for the datasets that are; an administrator of the council decides which.',
  PAGE_SIZE_TOO_LARGE: `Ask for at most ${MAX_PAGE_SIZE.toLocaleString('en-GB')} rows a page (limit), and follow each page's Link rel="next"; or leave limit out to download the whole dataset as one stream.`,
  BAD_CURSOR:
    'Use the cursor exactly as the Link rel="next" header of the previous page gave it, for the same dataset; or start again without one.',
  BAD_WINDOW: `Give from and to as dates (YYYY-MM-DD, London days), from before to, at most ${MAX_WINDOW_DAYS} days apart.`,
  RATE_LIMITED: 'Too many of these requests from this address. Wait Retry-After seconds; ask for fewer points or a narrower selection.',
  TTS_SECRET_INVALID:
    'Send the webhook secret as a custom header of the TTS webhook: Authorization: Bearer <secret>. An administrator makes it with POST /api/integrations/tts/applications/{id}/secret.',
  TTS_APPLICATION_MISMATCH: 'The uplink is of another TTS application than the secret: give each application its own webhook secret.',
  WEBHOOK_TARGET_REFUSED:
    'The webhook URL resolves to a private, loopback, link-local or otherwise non-public address. Use a public address, or have the operator list the host in WEBHOOK_ALLOW_HOSTS.',
  WEBHOOK_TARGET_UNRESOLVED: "The webhook URL's host name does not resolve. Check the spelling, or try again once its DNS record exists.",
  DELIVERY_NOT_DEAD: 'Only a dead-lettered delivery can be replayed; a pending one is still being tried and a delivered one arrived.',
  TTS_UNREACHABLE:
    'The Things Stack could not be reached or refused the request. Check baseUrl and the API key (it needs the traffic read right), then try again.',
  PUSH_OFF: 'Web Push is not set up on this service: the operator sets VAPID_SUBJECT (a mailto: or https: contact) to turn it on.',
  PUSH_PEOPLE_ONLY: 'Phones are subscribed by the person who carries them, signed in on that phone; an API token has no phone.',
  PUSH_ENDPOINT_REFUSED:
    'The push endpoint is on a private, loopback or otherwise non-public address. Browsers give public push-service URLs; use the one the browser gave.',
  NOT_STORED:
    'The service could not store this durably just now (its log is at its ceiling or the disk is low). Nothing was kept: send it again after Retry-After seconds.',
} as const
export type HttpErrorCode = ErrorCode | keyof typeof HTTP_ERROR_CODES

const hintOf = (code: HttpErrorCode): string =>
  code in HTTP_ERROR_CODES ? HTTP_ERROR_CODES[code as keyof typeof HTTP_ERROR_CODES] : ERROR_CODES[code as ErrorCode]

export const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    hint: z.string(),
    issues: z.array(Issue).optional(),
  }),
})

export function sendError(
  reply: FastifyReply,
  status: 400 | 401 | 403 | 404 | 409 | 410 | 429 | 503,
  code: HttpErrorCode,
  message?: string,
  issues?: { path: string; message: string }[],
) {
  return reply.code(status).send({ error: { code, message: message ?? hintOf(code), hint: hintOf(code), ...(issues ? { issues } : {}) } })
}

/** 429 with Retry-After in whole seconds (RFC 9110 §10.2.3), the one form every client understands. */
export function sendTooMany(reply: FastifyReply, code: 'AUTH_THROTTLED' | 'RATE_LIMITED', retryAfterS: number, message: string) {
  reply.header('retry-after', String(retryAfterS))
  return sendError(reply, 429, code, message)
}
