import type { FastifyPluginAsync } from 'fastify'

const HEALTH_SCHEMA = {
  tags: ['node'],
  summary: 'Liveness: the HTTP server answers (no token needed)',
  security: [],
  response: {
    200: {
      type: 'object',
      required: ['status'],
      properties: { status: { type: 'string', enum: ['ok'] } }
    }
  }
}

/** GET /healthz: registered outside the protected context, so probes need no token. */
export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get('/healthz', { schema: HEALTH_SCHEMA }, async () => ({ status: 'ok' as const }))
}
