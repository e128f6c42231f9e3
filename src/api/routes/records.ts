import type { FastifyPluginAsync } from 'fastify'
import type { NodeFacade } from '../types.js'
import { IMPORT_RECORDS_SCHEMA } from './records-schemas.js'

export interface RecordRoutesOptions {
  node: NodeFacade
}

/**
 * POST /v1/records: import signed CloudEvents (one per item, as `cdgossip export` writes them).
 * Each is serialised back to its exact wire form (the record's JSON members are all strings in
 * a fixed order, so this reproduces the signed bytes) and checked like a gossiped record.
 */
export const recordRoutes: FastifyPluginAsync<RecordRoutesOptions> = async (app, { node }) => {
  app.post<{ Body: Array<Record<string, unknown>> }>('/v1/records', { schema: IMPORT_RECORDS_SCHEMA }, async request => {
    const encoder = new TextEncoder()
    return await node.importRecords(request.body.map(record => encoder.encode(JSON.stringify(record))))
  })
}
