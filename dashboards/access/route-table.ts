import type { FastifyInstance, HTTPMethods } from 'fastify'
import type { Access } from './route-access.ts'

/** One route as registered: method, URL pattern (`/api/devices/:id`) and who may call it (undefined outside /api: public). */
export interface RouteEntry {
  method: HTTPMethods
  url: string
  access: Access | undefined
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route the server registered after collectRoutes, HEAD twins included; the authorisation matrix test reads it. */
    routeTable: readonly RouteEntry[]
  }
}

/**
 * Records every route registered from now on, as Fastify itself registers it, so that a test can
 * hold each one to an expectation and a route added without one fails. Call it before the first
 * plugin that adds routes (the docs plugins included): only routes registered after it are seen.
 */
export function collectRoutes(app: FastifyInstance): readonly RouteEntry[] {
  const routes: RouteEntry[] = []
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    for (const method of methods) routes.push({ method: method as HTTPMethods, url: route.url, access: route.config?.access })
  })
  app.decorate('routeTable', routes)
  return routes
}
