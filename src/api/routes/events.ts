import type { FastifyPluginAsync } from 'fastify'
import type { EventQuery } from '../../events/records.js'
import { EVENT_MEDIA_TYPES, MEDIA_CLOUDEVENT, MEDIA_CLOUDEVENT_BATCH, parsePublishRequest } from '../cloudevents-http.js'
import { NotFoundError } from '../errors.js'
import { InvalidRequestError } from '../../errors.js'
import { classPatternProblem } from '../../events/index.js'
import { eventViewJson } from '../../events/event-view.js'
import type { NodeFacade, PublishReceipt } from '../types.js'
import {
  GET_EVENT_SCHEMA, GET_EVENTS_SCHEMA, POST_EVENTS_SCHEMA, type DigestParams, type EventsQuerystring
} from './events-schemas.js'

export interface EventRoutesOptions {
  node: NodeFacade
}

/** POST /v1/events, GET /v1/events, GET /v1/events/:digest */
export const eventRoutes: FastifyPluginAsync<EventRoutesOptions> = async (app, { node }) => {
  // CloudEvents media types are JSON too; added in this context only, so other routes keep
  // refusing them with 415. Same parser (and body limit) as application/json.
  app.addContentTypeParser([MEDIA_CLOUDEVENT, MEDIA_CLOUDEVENT_BATCH], { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'))

  app.post<{ Body: unknown, Reply: PublishReceipt | PublishReceipt[] }>('/v1/events', {
    schema: POST_EVENTS_SCHEMA,
    config: { acceptedMediaTypes: EVENT_MEDIA_TYPES }
  }, async (request, reply) => {
    const { items, batch } = parsePublishRequest(mediaTypeOf(request.headers['content-type']), request.headers, request.body)
    const receipts = await node.publish(items)
    // an idempotent repeat changed nothing: 200, not 202
    const repeat = receipts.length > 0 && receipts.every((r) => r.status === 'existing')
    reply.code(repeat ? 200 : 202)
    if (batch) return receipts
    const [receipt] = receipts
    if (receipt === undefined || receipts.length !== 1) throw new Error(`node.publish answered ${receipts.length} receipts for one event`)
    return receipt
  })

  app.get<{ Querystring: EventsQuerystring }>('/v1/events', { schema: GET_EVENTS_SCHEMA }, async (request, reply) => {
    const page = await node.queryEvents(toEventQuery(request.query))
    // the response schema's shape, written from each record's own JSON text (eventViewJson)
    const next = page.next === undefined ? '' : `,"next":${JSON.stringify(page.next)}`
    return reply.type('application/json; charset=utf-8').send(`{"events":[${page.events.map(eventViewJson).join(',')}]${next}}`)
  })

  app.get<{ Params: DigestParams }>('/v1/events/:digest', { schema: GET_EVENT_SCHEMA }, async (request, reply) => {
    const stored = await node.getEvent(request.params.digest)
    if (stored === undefined) throw new NotFoundError(`no event with digest ${request.params.digest}`)
    const { bytes, digest } = stored.event
    // the exact signed bytes, never re-serialized: every node serves the same record
    return reply
      .type(MEDIA_CLOUDEVENT)
      .header('etag', `"${digest}"`)
      .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
  })
}

/**
 * `type` is an exact CDEvents type or a class pattern as subscriptions take it (`artifact.*`).
 * A misspelt one would silently match nothing: refuse it with the nearest subject or class.
 */
export function checkTypeFilter (type: string | undefined): void {
  if (type === undefined || type.startsWith('dev.')) return
  const problem = classPatternProblem(type)
  if (problem !== undefined) throw new InvalidRequestError(`type: ${problem}`, { field: 'type' })
}

function toEventQuery (qs: EventsQuerystring): EventQuery {
  const query: EventQuery = { limit: qs.limit }
  checkTypeFilter(qs.type)
  if (qs.type !== undefined) query.type = qs.type
  if (qs.source !== undefined) query.source = qs.source
  if (qs.subject !== undefined) query.subject = qs.subject
  if (qs.chainId !== undefined) query.chainId = qs.chainId
  if (qs.origin !== undefined) query.origin = qs.origin
  if (qs.since !== undefined) query.since = qs.since
  if (qs.until !== undefined) query.until = qs.until
  if (qs.trusted !== undefined) query.trusted = qs.trusted
  if (qs.cursor !== undefined) query.cursor = qs.cursor
  return query
}

/** `application/json; charset=utf-8` → `application/json` */
function mediaTypeOf (contentType: string | undefined): string | undefined {
  return contentType?.split(';', 1)[0]?.trim().toLowerCase()
}
