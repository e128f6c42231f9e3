import type { FastifyPluginAsync } from 'fastify'
import type { NodeFacade } from '../types.js'
import { GET_COMMUNITIES_SCHEMA, MAX_CHAIN_BODY_BYTES, POST_CHAIN_SCHEMA, type ChainBody } from './communities-schemas.js'

export interface CommunityRoutesOptions {
  node: NodeFacade
}

/** POST /v1/community/manifests, GET /v1/communities */
export const communityRoutes: FastifyPluginAsync<CommunityRoutesOptions> = async (app, { node }) => {
  app.post<{ Body: ChainBody }>('/v1/community/manifests', { schema: POST_CHAIN_SCHEMA, bodyLimit: MAX_CHAIN_BODY_BYTES }, async (request) => {
    return await node.publishCommunityChain(request.body.chain)
  })

  app.get('/v1/communities', { schema: GET_COMMUNITIES_SCHEMA }, async () => ({ communities: node.listCommunities() }))
}
