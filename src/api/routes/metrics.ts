import type { FastifyPluginAsync } from 'fastify'
import { BEARER_SECURITY, COMMON_ERROR_STATUSES, errorResponses } from '../schemas.js'
import type { NodeFacade } from '../types.js'

export interface MetricsRoutesOptions {
  node: NodeFacade
}

const METRICS_SCHEMA = {
  tags: ['node'],
  summary: 'Prometheus metrics (text exposition format 0.0.4)',
  description: 'Needs the token like every route but /healthz; in Prometheus, `authorization: { credentials_file: <data dir>/api-token }`.',
  security: BEARER_SECURITY,
  response: {
    200: {
      description: 'every cdgossip_* series, libp2p\'s libp2p_* series and the process\'s process_*/nodejs_* series',
      content: { 'text/plain': { schema: { type: 'string' } } }
    },
    ...errorResponses(...COMMON_ERROR_STATUSES)
  }
}

/**
 * GET /metrics. Logged at warn and above only: Prometheus scrapes every few seconds, and two
 * info lines per scrape would drown the log.
 */
export const metricsRoutes: FastifyPluginAsync<MetricsRoutesOptions> = async (app, { node }) => {
  app.get('/metrics', { schema: METRICS_SCHEMA, logLevel: 'warn' }, async (_request, reply) => {
    const { contentType, body } = await node.metrics()
    return await reply.type(contentType).send(body)
  })
}
