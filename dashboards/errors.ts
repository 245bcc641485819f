import type { FastifyReply } from 'fastify'
import { z } from 'zod'
import { ERROR_CODES, type ErrorCode } from '#devices'

export const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    hint: z.string(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
})

export function sendError(
  reply: FastifyReply,
  status: 400 | 401 | 403 | 404 | 409 | 503,
  code: ErrorCode,
  message?: string,
  issues?: { path: string; message: string }[],
) {
  return reply
    .code(status)
    .send({ error: { code, message: message ?? ERROR_CODES[code], hint: ERROR_CODES[code], ...(issues ? { issues } : {}) } })
}
