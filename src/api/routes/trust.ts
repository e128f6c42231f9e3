import type { FastifyPluginAsync } from 'fastify'
import { NotFoundError } from '../errors.js'
import { validateTrustEntry } from '../../trust/index.js'
import type { NodeFacade } from '../types.js'
import {
  DELETE_TRUST_SCHEMA, GET_TRUST_SCHEMA, POST_TRUST_SCHEMA, type PeerIdOrNameParams, type TrustBody
} from './trust-schemas.js'

export interface TrustRoutesOptions {
  node: NodeFacade
}

/** GET /v1/trust, POST /v1/trust, DELETE /v1/trust/:peerIdOrName */
export const trustRoutes: FastifyPluginAsync<TrustRoutesOptions> = async (app, { node }) => {
  app.get('/v1/trust', { schema: GET_TRUST_SCHEMA }, async () => ({ mode: node.trustMode(), entries: node.listTrust() }))

  app.post<{ Body: TrustBody }>('/v1/trust', { schema: POST_TRUST_SCHEMA }, async (request, reply) => {
    // the schema leaves class patterns to the validator: its answer names the nearest subject or class
    validateTrustEntry(request.body)
    const entry = await node.addTrust(request.body)
    return reply.code(201).send(entry)
  })

  app.delete<{ Params: PeerIdOrNameParams }>('/v1/trust/:peerIdOrName', { schema: DELETE_TRUST_SCHEMA }, async (request, reply) => {
    const removed = await node.removeTrust(request.params.peerIdOrName)
    if (!removed) throw new NotFoundError(`no trust entry for ${request.params.peerIdOrName}`)
    return reply.code(204).send()
  })
}
