import type { FastifyPluginAsync } from 'fastify'
import type { NodeFacade } from '../types.js'
import { GET_PEERS_SCHEMA } from './peers-schemas.js'

export interface PeerRoutesOptions {
  node: NodeFacade
}

/** GET /v1/peers */
export const peerRoutes: FastifyPluginAsync<PeerRoutesOptions> = async (app, { node }) => {
  app.get('/v1/peers', { schema: GET_PEERS_SCHEMA }, async () => node.peers())
}
