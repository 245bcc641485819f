import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Registry } from '../../store/registry.ts'

// Placeholder: filled in by the work that owns these routes.
export const caseRoutes =
  (_deps: { registry: Registry }): FastifyPluginAsyncZod =>
  async (_app) => {}
