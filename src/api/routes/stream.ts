import type { FastifyPluginAsync } from 'fastify'
import type { NodeFacade } from '../types.js'
import { STREAM_SCHEMA, type StreamQuery } from './stream-schemas.js'
import { checkTypeFilter } from './events.js'

export interface StreamRoutesOptions {
  node: NodeFacade
}

/**
 * GET /v1/stream: Server-Sent Events. Each event's SSE id is its arrival cursor; a client that
 * reconnects with Last-Event-ID resumes exactly after it. Open streams end in preClose, or
 * app.close() would wait for them forever.
 */
export const streamRoutes: FastifyPluginAsync<StreamRoutesOptions> = async (app, { node }) => {
  const open = new Set<AbortController>()
  app.addHook('preClose', async () => {
    for (const controller of open) controller.abort()
  })

  app.get<{ Querystring: StreamQuery, Headers: { 'last-event-id'?: string } }>('/v1/stream', { schema: STREAM_SCHEMA }, async (request, reply) => {
    const { subscription, after: afterParam, last, ...query } = request.query
    const controller = new AbortController()
    checkTypeFilter(query.type)
    const after = request.headers['last-event-id'] ?? afterParam
    // a bad filter, subscription or cursor rejects here, before any header is sent
    const frames = await node.openStream({ query, ...(subscription === undefined ? {} : { subscription }), ...(after === undefined || after === '' ? {} : { after }), ...(last === undefined ? {} : { last }), signal: controller.signal })

    open.add(controller)
    request.raw.on('close', () => { controller.abort() })
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no'
    })
    // headers and a comment at once: a client of a quiet node sees the stream open immediately
    res.write(': connected\n\n')
    try {
      for await (const frame of frames) {
        if (controller.signal.aborted) break
        // honour back-pressure: wait for drain rather than buffering in the socket without bound
        if (!res.write(frame)) await drained(res, controller.signal)
      }
    } catch (err) {
      if (!controller.signal.aborted) request.log.warn({ err }, 'event stream failed')
    } finally {
      open.delete(controller)
      await frames.return(undefined)
      res.end()
    }
  })
}

async function drained (res: NodeJS.WritableStream, signal: AbortSignal): Promise<void> {
  await new Promise<void>(resolve => {
    const done = (): void => { res.off('drain', done); signal.removeEventListener('abort', done); resolve() }
    res.on('drain', done)
    signal.addEventListener('abort', done, { once: true })
  })
}
