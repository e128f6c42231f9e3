import type { FastifyPluginAsync } from 'fastify'
import type { NodeFacade } from '../types.js'
import { GET_NODE_SCHEMA } from './node-schemas.js'

export interface NodeRoutesOptions {
  node: NodeFacade
}

/** GET /v1/node */
export const nodeRoutes: FastifyPluginAsync<NodeRoutesOptions> = async (app, { node }) => {
  app.get('/v1/node', { schema: GET_NODE_SCHEMA }, async () => await node.info())
}
