import type { FastifyPluginAsync } from 'fastify'
import { DEFAULT_WEBHOOK_MODE, validateClasses } from '../../subscriptions/index.js'
import type { Subscription, SubscriptionSink } from '../../subscriptions/types.js'
import { NotFoundError } from '../errors.js'
import type { NodeFacade, SubscriptionInput } from '../types.js'
import {
  DELETE_SUBSCRIPTION_SCHEMA, DISCARD_DEAD_LETTERS_SCHEMA, GET_SUBSCRIPTION_SCHEMA, LIST_DEAD_LETTERS_SCHEMA, LIST_SUBSCRIPTIONS_SCHEMA,
  POST_SUBSCRIPTION_SCHEMA, REDACTED, REDRIVE_DEAD_LETTERS_SCHEMA,
  type RedriveBody, type SubscriptionBody, type SubscriptionIdParams
} from './subscriptions-schemas.js'

export interface SubscriptionRoutesOptions {
  node: NodeFacade
}

/**
 * GET/POST /v1/subscriptions, GET/DELETE /v1/subscriptions/:id,
 * GET/POST/DELETE /v1/subscriptions/:id/dead-letters
 */
export const subscriptionRoutes: FastifyPluginAsync<SubscriptionRoutesOptions> = async (app, { node }) => {
  function mustExist (id: string): Subscription {
    const subscription = node.getSubscription(id)
    if (subscription === undefined) throw new NotFoundError(`no subscription ${id}`)
    return subscription
  }

  app.get('/v1/subscriptions', { schema: LIST_SUBSCRIPTIONS_SCHEMA }, async () => node.listSubscriptions().map(redactSubscription))

  app.post<{ Body: SubscriptionBody }>('/v1/subscriptions', { schema: POST_SUBSCRIPTION_SCHEMA }, async (request, reply) => {
    // the schema leaves class patterns to this check: its answer names the nearest subject or class
    validateClasses(request.body.classes)
    const created = await node.addSubscription(toSubscriptionInput(request.body))
    return reply.code(201).send(redactSubscription(created))
  })

  app.get<{ Params: SubscriptionIdParams }>('/v1/subscriptions/:id', { schema: GET_SUBSCRIPTION_SCHEMA }, async (request) =>
    redactSubscription(mustExist(request.params.id)))

  app.delete<{ Params: SubscriptionIdParams }>('/v1/subscriptions/:id', { schema: DELETE_SUBSCRIPTION_SCHEMA }, async (request, reply) => {
    const removed = await node.removeSubscription(request.params.id)
    if (!removed) throw new NotFoundError(`no subscription ${request.params.id}`)
    return reply.code(204).send()
  })

  app.get<{ Params: SubscriptionIdParams }>('/v1/subscriptions/:id/dead-letters', { schema: LIST_DEAD_LETTERS_SCHEMA }, async (request) => {
    mustExist(request.params.id)
    return await node.listDeadLetters(request.params.id)
  })

  app.post<{ Params: SubscriptionIdParams, Body: RedriveBody }>('/v1/subscriptions/:id/dead-letters', {
    schema: REDRIVE_DEAD_LETTERS_SCHEMA,
    // "redrive everything" needs no body: treat a bodyless POST as `{}` before the schema sees it
    preValidation: (request, _reply, done) => { request.body ??= {}; done() }
  }, async (request) => {
    mustExist(request.params.id)
    return { redriven: await node.redriveDeadLetters(request.params.id, request.body.digests) }
  })

  app.delete<{ Params: SubscriptionIdParams, Body: RedriveBody }>('/v1/subscriptions/:id/dead-letters', {
    schema: DISCARD_DEAD_LETTERS_SCHEMA,
    // "discard everything" needs no body, as most DELETE requests have none
    preValidation: (request, _reply, done) => { request.body ??= {}; done() }
  }, async (request) => {
    mustExist(request.params.id)
    return { discarded: await node.discardDeadLetters(request.params.id, request.body.digests) }
  })
}

/** The documented defaults (the same the node's own normalisation applies), so the facade gets a whole input. */
function toSubscriptionInput (body: SubscriptionBody): SubscriptionInput {
  const given = body.sink ?? { type: 'store' }
  const sink: SubscriptionSink = given.type === 'webhook' ? { ...given, mode: given.mode ?? DEFAULT_WEBHOOK_MODE } : given
  const input: SubscriptionInput = {
    classes: body.classes,
    filter: body.filter ?? {},
    includeUntrusted: body.includeUntrusted ?? false,
    start: body.start ?? { kind: 'now' },
    sink
  }
  if (body.id !== undefined) input.id = body.id
  return input
}

/** Pure: the subscription with webhook header values hidden (they are usually the receiver's secret). */
export function redactSubscription (subscription: Subscription): Subscription {
  const { sink } = subscription
  if (sink.type !== 'webhook' || sink.headers === undefined) return subscription
  const headers = Object.fromEntries(Object.keys(sink.headers).map((name) => [name, REDACTED]))
  return { ...subscription, sink: { ...sink, headers } }
}
