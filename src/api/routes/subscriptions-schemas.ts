import { SUBSCRIPTION_ID_REGEX, subscriptionInputSchema, TRIGGER_SINK_TYPES } from '../../subscriptions/index.js'
import type { SubscriptionFilter, SubscriptionStart, TriggerSink } from '../../subscriptions/types.js'
import { BEARER_SECURITY, COMMON_ERROR_STATUSES, DIGEST_PATTERN, errorResponses } from '../schemas.js'

/** Digests one redrive request may name: the size of a large dead-letter list. */
export const MAX_REDRIVE_DIGESTS = 1000
/** What the API shows instead of a webhook header's value: it is usually the receiver's secret. */
export const REDACTED = '[redacted]'

/** A body the schema accepted: everything but `classes` may be left to defaults. */
export interface SubscriptionBody {
  id?: string
  classes: string[]
  filter?: SubscriptionFilter
  includeUntrusted?: boolean
  start?: SubscriptionStart
  sink?: { type: 'store' } | {
    type: 'webhook'
    url: string
    mode?: 'binary' | 'structured'
    headers?: Record<string, string>
    maxAttempts?: number
    maxAgeSeconds?: number
    timeoutMs?: number
  } | TriggerSink
}

export interface SubscriptionIdParams {
  id: string
}

export interface RedriveBody {
  digests?: string[]
}

export const SUBSCRIPTION = {
  type: 'object',
  required: ['id', 'classes', 'filter', 'includeUntrusted', 'start', 'sink', 'createdAt', 'origin'],
  properties: {
    id: { type: 'string' },
    classes: { type: 'array', items: { type: 'string' } },
    filter: {
      type: 'object',
      properties: {
        origins: { type: 'array', items: { type: 'string' } },
        sourcePrefix: { type: 'string' },
        subject: { type: 'string' },
        outcome: { type: 'string' }
      }
    },
    includeUntrusted: { type: 'boolean' },
    start: {
      type: 'object',
      required: ['kind'],
      properties: {
        kind: { type: 'string', enum: ['now', 'beginning', 'cursor', 'time'] },
        cursor: { type: 'string' },
        time: { type: 'string' }
      }
    },
    sink: {
      type: 'object',
      required: ['type'],
      properties: {
        type: { type: 'string', enum: ['store', 'webhook', ...TRIGGER_SINK_TYPES] },
        url: { type: 'string' },
        mode: { type: 'string', enum: ['binary', 'structured'] },
        headers: { type: 'object', additionalProperties: { type: 'string' }, description: `values shown as ${REDACTED}` },
        maxAttempts: { type: 'integer' },
        maxAgeSeconds: { type: 'integer' },
        timeoutMs: { type: 'integer' },
        apiUrl: { type: 'string' },
        owner: { type: 'string' },
        repo: { type: 'string' },
        gitlabUrl: { type: 'string' },
        project: { type: 'string' },
        ref: { type: 'string' },
        jenkinsUrl: { type: 'string' },
        job: { type: 'string' },
        user: { type: 'string' },
        tokenFile: { type: 'string', description: 'where the token is read from; the token itself is never stored or shown' },
        tokenEnv: { type: 'string', description: 'the environment variable the token is read from; the token itself is never stored or shown' }
      }
    },
    createdAt: { type: 'string', format: 'date-time' },
    origin: { type: 'string', enum: ['config', 'api'], description: '`config` subscriptions come from the config file and cannot be deleted here' }
  }
}

const ID_PARAMS = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: SUBSCRIPTION_ID_REGEX } }
}

export const LIST_SUBSCRIPTIONS_SCHEMA = {
  tags: ['subscriptions'],
  summary: 'All subscriptions (config file and API)',
  security: BEARER_SECURITY,
  response: {
    200: { type: 'array', items: SUBSCRIPTION },
    ...errorResponses(...COMMON_ERROR_STATUSES)
  }
}

export const POST_SUBSCRIPTION_SCHEMA = {
  tags: ['subscriptions'],
  summary: 'Declare interest in event classes; the node joins their topics',
  security: BEARER_SECURITY,
  // subscriptions/' schema: the shape the node's own validation (normalisation, defaults) expects
  body: subscriptionInputSchema,
  response: { 201: SUBSCRIPTION, ...errorResponses(...COMMON_ERROR_STATUSES, 409) }
}

export const GET_SUBSCRIPTION_SCHEMA = {
  tags: ['subscriptions'],
  summary: 'One subscription',
  security: BEARER_SECURITY,
  params: ID_PARAMS,
  response: { 200: SUBSCRIPTION, ...errorResponses(...COMMON_ERROR_STATUSES, 404) }
}

export const DELETE_SUBSCRIPTION_SCHEMA = {
  tags: ['subscriptions'],
  summary: 'Remove an API subscription',
  security: BEARER_SECURITY,
  params: ID_PARAMS,
  response: { 204: { type: 'null', description: 'removed' }, ...errorResponses(...COMMON_ERROR_STATUSES, 404) }
}

const DEAD_LETTER = {
  type: 'object',
  required: ['digest', 'cursor', 'attempts', 'failedAt'],
  properties: {
    digest: { type: 'string', pattern: DIGEST_PATTERN },
    cursor: { type: 'string' },
    attempts: { type: 'integer', minimum: 0 },
    lastStatus: { type: 'integer' },
    lastError: { type: 'string' },
    failedAt: { type: 'string', format: 'date-time' }
  }
}

export const LIST_DEAD_LETTERS_SCHEMA = {
  tags: ['subscriptions'],
  summary: 'Events a webhook or trigger subscription gave up delivering',
  security: BEARER_SECURITY,
  params: ID_PARAMS,
  response: {
    200: { type: 'array', items: DEAD_LETTER },
    ...errorResponses(...COMMON_ERROR_STATUSES, 404)
  }
}

/** `{ digests }` picks dead letters by digest; no body (or `{}`) means all of them. */
const REDRIVE_BODY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    digests: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_REDRIVE_DIGESTS,
      items: { type: 'string', pattern: DIGEST_PATTERN }
    }
  }
}

export const REDRIVE_DEAD_LETTERS_SCHEMA = {
  tags: ['subscriptions'],
  summary: 'Re-queue dead letters: all of them, or the given digests',
  security: BEARER_SECURITY,
  params: ID_PARAMS,
  body: REDRIVE_BODY,
  response: {
    200: { type: 'object', required: ['redriven'], properties: { redriven: { type: 'integer', minimum: 0 } } },
    ...errorResponses(...COMMON_ERROR_STATUSES, 404)
  }
}

export const DISCARD_DEAD_LETTERS_SCHEMA = {
  tags: ['subscriptions'],
  summary: 'Drop dead letters for good: all of them, or the given digests (a paused subscription then delivers again)',
  security: BEARER_SECURITY,
  params: ID_PARAMS,
  body: REDRIVE_BODY,
  response: {
    200: { type: 'object', required: ['discarded'], properties: { discarded: { type: 'integer', minimum: 0 } } },
    ...errorResponses(...COMMON_ERROR_STATUSES, 404)
  }
}
