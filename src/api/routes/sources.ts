import type { FastifyPluginAsync } from 'fastify'
import type { SourceKindName } from '../../hooks/index.js'
import { NotFoundError } from '../errors.js'
import type { NodeFacade, SourceInput } from '../types.js'
import {
  DELETE_SOURCE_SCHEMA, LIST_SOURCES_SCHEMA, POST_SOURCE_SCHEMA, TEST_SOURCE_SCHEMA,
  type SourceBody, type SourceNameParams, type SourceTestBody
} from './sources-schemas.js'

export interface SourceRoutesOptions {
  node: NodeFacade
}

/** GET/POST /v1/sources, DELETE /v1/sources/:name, POST /v1/sources/:name/test */
export const sourceRoutes: FastifyPluginAsync<SourceRoutesOptions> = async (app, { node }) => {
  app.get('/v1/sources', { schema: LIST_SOURCES_SCHEMA }, async () => node.listSources())

  app.post<{ Body: SourceBody }>('/v1/sources', { schema: POST_SOURCE_SCHEMA }, async (request, reply) => {
    // the schema checked the kind against SOURCE_KIND_NAMES; the node validates the rest
    const created = await node.addSource({ ...request.body, kind: request.body.kind as SourceKindName } satisfies SourceInput)
    return reply.code(201).send(created)
  })

  app.delete<{ Params: SourceNameParams }>('/v1/sources/:name', { schema: DELETE_SOURCE_SCHEMA }, async (request, reply) => {
    const removed = await node.removeSource(request.params.name)
    if (!removed) throw new NotFoundError(`no source ${request.params.name}`)
    return reply.code(204).send()
  })

  app.post<{ Params: SourceNameParams, Body: SourceTestBody }>('/v1/sources/:name/test', { schema: TEST_SOURCE_SCHEMA }, async (request) =>
    await node.testSource(request.params.name, { body: request.body.body, headers: request.body.headers ?? {} }))
}
