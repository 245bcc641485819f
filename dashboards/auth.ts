import type { FastifyReply, FastifyRequest } from 'fastify'
import { sendError } from './errors.ts'

export type VerifyToken = (token: string) => boolean

export function bearerToken(header: string | undefined): string | null {
  if (!header?.startsWith('Bearer ')) return null
  return header.slice(7).trim() || null
}

/** Every /api route requires the admin token until people and roles arrive. */
export function requireToken(verify: VerifyToken) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const token = bearerToken(req.headers.authorization)
    if (!token || !verify(token)) return sendError(reply, 401, 'UNAUTHENTICATED')
  }
}
