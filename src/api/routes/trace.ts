import type { FastifyPluginAsync } from 'fastify'
import { NotFoundError } from '../errors.js'
import type { NodeFacade } from '../types.js'
import {
  GET_ARTIFACT_SCHEMA, GET_CHAIN_SCHEMA, GET_TRACE_SCHEMA, type ChainParams, type PurlParams, type ResolveQuerystring, type TraceQuerystring
} from './trace-schemas.js'
import type { DigestParams } from './events-schemas.js'

export interface TraceRoutesOptions {
  node: NodeFacade
}

/** GET /v1/chains/:chainId, GET /v1/events/:digest/trace, GET /v1/artifacts/:purl */
export const traceRoutes: FastifyPluginAsync<TraceRoutesOptions> = async (app, { node }) => {
  app.get<{ Params: ChainParams, Querystring: ResolveQuerystring }>('/v1/chains/:chainId', { schema: GET_CHAIN_SCHEMA }, async request => {
    return await node.traceChain(request.params.chainId, { resolve: request.query.resolve === true })
  })

  app.get<{ Params: DigestParams, Querystring: TraceQuerystring }>('/v1/events/:digest/trace', { schema: GET_TRACE_SCHEMA }, async request => {
    const { direction, depth, resolve } = request.query
    const graph = await node.traceEvent(request.params.digest, {
      ...(direction === undefined ? {} : { direction }),
      ...(depth === undefined ? {} : { depth }),
      resolve: resolve === true
    })
    if (graph === undefined) throw new NotFoundError(`no event with digest ${request.params.digest}`)
    return graph
  })

  app.get<{ Params: PurlParams, Querystring: ResolveQuerystring }>('/v1/artifacts/:purl', { schema: GET_ARTIFACT_SCHEMA }, async request => {
    return await node.artifact(request.params.purl, { resolve: request.query.resolve === true })
  })
}
