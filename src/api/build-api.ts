import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify'
import { pino, type Level, type Logger } from 'pino'
import { createApiAuth } from './auth.js'
import { registerDocsUi, registerOpenApi } from './docs.js'
import { createErrorHandler, notFoundHandler } from './error-handler.js'
import { ApiConfigError } from './errors.js'
import { eventRoutes } from './routes/events.js'
import { healthRoutes } from './routes/health.js'
import { metricsRoutes } from './routes/metrics.js'
import { nodeRoutes } from './routes/node.js'
import { configRoutes } from './routes/config.js'
import { peerRoutes } from './routes/peers.js'
import { subscriptionRoutes } from './routes/subscriptions.js'
import { streamRoutes } from './routes/stream.js'
import { recordRoutes } from './routes/records.js'
import { trustRoutes } from './routes/trust.js'
import { communityRoutes } from './routes/communities.js'
import { sourceRoutes } from './routes/sources.js'
import { traceRoutes } from './routes/trace.js'
import { ERROR_SCHEMA } from './schemas.js'
import { uiRoutes } from './ui.js'
import { UiSessions } from './ui-sessions.js'
import type { NodeFacade, RequestSample } from './types.js'
import { createValidatorCompiler } from './validation.js'

/**
 * Largest request body: 1 MiB holds a batch of typical CDEvents (a few hundred bytes to a few
 * KiB each) while keeping what one request can make the node parse and hold in memory small.
 */
export const DEFAULT_BODY_LIMIT = 1_048_576

/**
 * Log paths that may hold the API token. The API logs through a child of the given logger, and a
 * child's redaction replaces its parent's, so the token's paths are all listed here.
 */
export const REDACTED_LOG_PATHS: readonly string[] = Object.freeze([
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'token'
])

export interface ApiComponents {
  node: NodeFacade
  /** the logger to use, already bound to the component (`log.child({ component: 'api' })`); silent when absent */
  log?: Logger
  /** told of every finished request, with its route pattern (metrics); must not throw */
  observeRequest?: (sample: RequestSample) => void
}

export interface ApiInit {
  /** the bearer token every route but `GET /healthz` requires */
  token: string
  /**
   * largest request body in bytes
   * @default DEFAULT_BODY_LIMIT (1 MiB)
   */
  bodyLimit?: number
  /** the node's version, shown in the OpenAPI document */
  version: string
  /**
   * the web page's bundle (index.html, app.js, app.css)
   * @default the package's dist/ui/, written by `npm run build`
   */
  uiDir?: string
  /**
   * level of the API's logger; without `components.log` and without a level the API is silent
   * @default the parent logger's level, or `silent` without one
   */
  logLevel?: Level | 'silent'
}

/**
 * Build the REST API without listening (node.ts calls `listen`, tests call `inject`).
 * Routes talk only to `components.node`.
 */
export async function buildApi (components: ApiComponents, init: ApiInit): Promise<FastifyInstance> {
  const bodyLimit = init.bodyLimit ?? DEFAULT_BODY_LIMIT
  checkInit(init, bodyLimit)
  const { node } = components

  const log = apiLogger(components.log, init.logLevel)
  const app: FastifyInstance = Fastify({
    // a pino Logger is a FastifyBaseLogger; only pino's generic parameters differ
    loggerInstance: log as FastifyBaseLogger,
    // Fastify's own request logging writes two info lines per request: at the default level a node
    // taking single publishes wrote ~4,500 lines a second and published ~20 % fewer events
    // (measured on 2 cores). Refusals and failures are logged by the error handler (info, error);
    // completed requests are logged below, at debug.
    disableRequestLogging: true,
    bodyLimit
  })
  app.setValidatorCompiler(createValidatorCompiler())
  app.setErrorHandler(createErrorHandler(bodyLimit))
  app.setNotFoundHandler(notFoundHandler)
  // JSON only: a text/plain body would reach route schemas as a string and fail there as a
  // 400 instead of the honest 415
  app.removeContentTypeParser('text/plain')
  app.addSchema(ERROR_SCHEMA)
  const { observeRequest } = components
  // on the root before any route, so it covers every route, 401s and 404s included
  app.addHook('onResponse', async (request, reply) => {
    if (log.isLevelEnabled('debug')) {
      request.log.debug({ req: request, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime }, 'request completed')
    }
    observeRequest?.({ method: request.method, route: request.routeOptions.url, statusCode: reply.statusCode, durationSeconds: reply.elapsedTime / 1000 })
  })

  await registerOpenApi(app, init.version)
  await app.register(healthRoutes)
  const sessions = new UiSessions()
  // the web page checks its login itself: without one it explains how to get the link
  await app.register(uiRoutes, { token: init.token, sessions, dir: init.uiDir })

  // Everything registered in here requires the token, or the web page's cookie for reads; the
  // hook does not leak out of this context.
  await app.register(async (protectedApp) => {
    protectedApp.addHook('onRequest', createApiAuth(init.token, sessions))
    await registerDocsUi(protectedApp)
    await protectedApp.register(nodeRoutes, { node })
    await protectedApp.register(configRoutes, { node })
    await protectedApp.register(peerRoutes, { node })
    await protectedApp.register(eventRoutes, { node })
    await protectedApp.register(trustRoutes, { node })
    await protectedApp.register(communityRoutes, { node })
    await protectedApp.register(subscriptionRoutes, { node })
    await protectedApp.register(sourceRoutes, { node })
    await protectedApp.register(streamRoutes, { node })
    await protectedApp.register(recordRoutes, { node })
    await protectedApp.register(traceRoutes, { node })
    await protectedApp.register(metricsRoutes, { node })
  })

  return app
}

function checkInit (init: ApiInit, bodyLimit: number): void {
  if (typeof init.token !== 'string' || init.token.trim() === '') throw new ApiConfigError('api token must be a non-empty string')
  if (!Number.isSafeInteger(bodyLimit) || bodyLimit < 1) throw new ApiConfigError(`api bodyLimit must be a positive integer, got ${String(bodyLimit)}`)
  if (typeof init.version !== 'string' || init.version === '') throw new ApiConfigError('api version must be a non-empty string')
}

function apiLogger (parent: Logger | undefined, level: ApiInit['logLevel']): Logger {
  const redact = { paths: [...REDACTED_LOG_PATHS], censor: '[redacted]' }
  // never log headers (even if the parent's serializer would): method and URL say enough
  const serializers = { req: serializeRequest }
  if (parent === undefined) return pino({ redact, serializers, level: level ?? 'silent' })
  // no bindings: the caller named the component; this child only adds redaction and serializers
  return parent.child({}, level === undefined ? { redact, serializers } : { redact, serializers, level })
}

function serializeRequest (req: FastifyRequest): Record<string, unknown> {
  return { method: req.method, url: redactQueryToken(req.url), remoteAddress: req.ip }
}

/** The web page's login URL carries the token in its query (`/ui/?token=…`). */
export function redactQueryToken (url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]')
}
