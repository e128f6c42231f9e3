import type { EventQuery } from '../../events/records.js'
import { BEARER_SECURITY, COMMON_ERROR_STATUSES, MAX_ID_LENGTH, errorResponses } from '../schemas.js'
import { SUBSCRIPTION_ID_REGEX } from '../../subscriptions/index.js'
import { GET_EVENTS_SCHEMA } from './events-schemas.js'

export type StreamQuery = Omit<EventQuery, 'limit' | 'cursor'> & {
  subscription?: string
  after?: string
  last?: number
}

/** Most stored events `last` may ask for first: a screenful or a few, like `tail -n`. */
export const MAX_STREAM_LAST = 1000

const { limit: _limit, cursor: _cursor, ...FILTERS } = GET_EVENTS_SCHEMA.querystring.properties

export const STREAM_SCHEMA = {
  tags: ['events'],
  summary: 'Server-Sent Events: stored events, then live ones; resume with Last-Event-ID',
  description: 'Each SSE `id` is the event\'s arrival cursor and each `data` line is the same view as GET /v1/events. ' +
    'Comment lines (`: ping`) keep idle connections open. A client that reads too slowly gets an `overflow` event and ' +
    'should reconnect with its last id.',
  security: BEARER_SECURITY,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...FILTERS,
      subscription: { type: 'string', pattern: SUBSCRIPTION_ID_REGEX, description: 'stream what this subscription matches instead of the filters' },
      after: { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH, description: 'a cursor to resume after (Last-Event-ID wins when both are given)' },
      last: {
        type: 'integer',
        minimum: 0,
        maximum: MAX_STREAM_LAST,
        description: 'without a cursor: start with the last N matching stored events (0: only new ones) instead of all of them; ' +
          'the stream opens with an id-only frame naming where it starts. Ignored when resuming (Last-Event-ID, after).'
      }
    }
  },
  headers: {
    type: 'object',
    properties: {
      'last-event-id': { type: 'string', maxLength: MAX_ID_LENGTH }
    }
  },
  response: {
    ...errorResponses(...COMMON_ERROR_STATUSES)
  }
} as const
