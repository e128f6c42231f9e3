import { MAX_BATCH_ITEMS, MEDIA_CLOUDEVENT, MEDIA_CLOUDEVENT_BATCH, MEDIA_JSON } from '../cloudevents-http.js'
import {
  BEARER_SECURITY, COMMON_ERROR_STATUSES, DIGEST_PATTERN, MAX_ID_LENGTH, MAX_TEXT_LENGTH, errorResponses, peerIdSchema
} from '../schemas.js'

/** Page size of GET /v1/events when the client names none. */
export const DEFAULT_PAGE_LIMIT = 100
/** Largest page a client may ask for: one page is built and serialized in memory. */
export const MAX_PAGE_LIMIT = 1000

/**
 * The API only checks that a CDEvent is a JSON object; the node validates it against the
 * CDEvents v0.5.1 schema and answers CDG_INVALID_EVENT with violations, so there is one
 * validator (and one error code) for event content however it arrives.
 */
const CDEVENT_INPUT = {
  type: 'object',
  description: 'A CDEvent v0.5.1 (context, subject, optional customData); validated by the node.'
}

const STRUCTURED_CLOUDEVENT = {
  type: 'object',
  description: 'A CloudEvent in the JSON format whose data (inline, or base64 in data_base64) is the CDEvent. ' +
    'id, source, type, subject and time must mirror the CDEvent context.',
  required: ['specversion', 'id', 'source', 'type'],
  properties: {
    specversion: { type: 'string' },
    id: { type: 'string', minLength: 1 },
    source: { type: 'string', minLength: 1 },
    type: { type: 'string', minLength: 1 },
    subject: { type: 'string' },
    time: { type: 'string' },
    datacontenttype: { type: 'string' },
    dataschema: { type: 'string' },
    data: CDEVENT_INPUT,
    data_base64: { type: 'string', description: 'base64 of the CDEvent JSON (UTF-8)' }
  }
}

const RECEIPT = {
  type: 'object',
  required: ['digest', 'id', 'source', 'type', 'class', 'sequence', 'status'],
  properties: {
    digest: { type: 'string', pattern: DIGEST_PATTERN, description: 'sha256 of the signed record: GET /v1/events/{digest}' },
    id: { type: 'string' },
    source: { type: 'string' },
    type: { type: 'string' },
    class: { type: 'string' },
    sequence: { type: 'integer', minimum: 1 },
    status: { type: 'string', enum: ['created', 'existing'], description: '`existing`: an idempotent repeat of identical content' }
  }
}

const RECEIPTS = {
  description: 'One receipt for a single event, a list (in request order) for an array or batch.',
  anyOf: [RECEIPT, { type: 'array', items: RECEIPT }]
}

/**
 * Binary mode (CloudEvents HTTP binding): the attributes travel as percent-encoded `ce-` headers
 * and the body, `application/json`, is the CDEvent. `ce-specversion` marks the mode, so the
 * required attributes come with it, and an attribute header without it is a client mistake
 * rather than something to ignore.
 */
const BINARY_MODE_HEADERS = {
  type: 'object',
  properties: {
    'ce-specversion': { type: 'string', description: 'binary mode: must be 1.0; the body is the CDEvent' },
    'ce-id': { type: 'string', minLength: 1 },
    'ce-source': { type: 'string', minLength: 1 },
    'ce-type': { type: 'string', minLength: 1 },
    'ce-subject': { type: 'string' },
    'ce-time': { type: 'string' }
  },
  dependencies: {
    'ce-specversion': ['ce-id', 'ce-source', 'ce-type'],
    'ce-id': ['ce-specversion'],
    'ce-source': ['ce-specversion'],
    'ce-type': ['ce-specversion']
  }
}

export const POST_EVENTS_SCHEMA = {
  tags: ['events'],
  summary: 'Publish CDEvents: validate, sign, store and gossip (a batch is all-or-nothing)',
  description: 'Accepts a bare CDEvent or an array of them (`application/json`), a structured CloudEvent ' +
    '(`application/cloudevents+json`), a CloudEvents batch (`application/cloudevents-batch+json`), or a ' +
    'binary-mode CloudEvent (`ce-` headers, `application/json` body). 202 when anything was stored, ' +
    `200 when every event was already stored with identical content. At most ${MAX_BATCH_ITEMS} events per request.`,
  security: BEARER_SECURITY,
  headers: BINARY_MODE_HEADERS,
  body: {
    content: {
      [MEDIA_JSON]: {
        schema: {
          anyOf: [CDEVENT_INPUT, { type: 'array', minItems: 1, maxItems: MAX_BATCH_ITEMS, items: CDEVENT_INPUT }]
        }
      },
      [MEDIA_CLOUDEVENT]: { schema: STRUCTURED_CLOUDEVENT },
      [MEDIA_CLOUDEVENT_BATCH]: {
        schema: { type: 'array', minItems: 1, maxItems: MAX_BATCH_ITEMS, items: STRUCTURED_CLOUDEVENT }
      }
    }
  },
  response: {
    200: RECEIPTS,
    202: RECEIPTS,
    ...errorResponses(...COMMON_ERROR_STATUSES, 403, 409, 413, 415, 422)
  }
}

export interface EventsQuerystring {
  type?: string
  source?: string
  subject?: string
  chainId?: string
  origin?: string
  since?: string
  until?: string
  trusted?: boolean
  limit: number
  cursor?: string
}

const EVENT_VIEW = {
  type: 'object',
  required: ['cursor', 'digest', 'origin', 'class', 'sequence', 'trusted', 'receivedAt', 'cloudEvent', 'cdevent'],
  properties: {
    cursor: { type: 'string', description: 'local arrival order; pass as `cursor` to read on from here' },
    digest: { type: 'string', pattern: DIGEST_PATTERN },
    origin: { type: 'string', description: 'the signer\'s peer ID' },
    class: { type: 'string' },
    sequence: { type: 'integer', minimum: 1 },
    trusted: { type: 'boolean' },
    receivedAt: { type: 'string', format: 'date-time' },
    cloudEvent: { type: 'object', additionalProperties: true, description: 'the signed CloudEvent record, parsed' },
    cdevent: { type: 'object', additionalProperties: true },
    signerRevoked: {
      type: 'object',
      required: ['since'],
      properties: { since: { type: 'string', format: 'date-time', description: 'when this node learned of the revocation' } },
      description: "present when the signer's community revoked its key after this record arrived here (README: Revocation)"
    }
  }
}

export const GET_EVENTS_SCHEMA = {
  tags: ['events'],
  summary: 'Query stored events in local arrival order',
  security: BEARER_SECURITY,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      type: { type: 'string', minLength: 1, maxLength: MAX_TEXT_LENGTH, description: 'exact CDEvents type, an event class (`pipelinerun.finished`), or a class pattern (`artifact.*`, `*`)' },
      source: { type: 'string', minLength: 1, maxLength: MAX_TEXT_LENGTH, description: 'CloudEvent source prefix' },
      subject: { type: 'string', minLength: 1, maxLength: MAX_TEXT_LENGTH, description: 'subject id, exact' },
      chainId: { type: 'string', minLength: 1, maxLength: MAX_TEXT_LENGTH },
      origin: peerIdSchema('origin peer ID, exact'),
      since: { type: 'string', format: 'date-time', description: 'event time (context.timestamp) lower bound, inclusive' },
      until: { type: 'string', format: 'date-time', description: 'event time upper bound, inclusive' },
      trusted: { type: 'boolean', description: 'only trusted (true) or only untrusted (false) events' },
      limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE_LIMIT, default: DEFAULT_PAGE_LIMIT },
      cursor: { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH, description: 'return events after this cursor (from `next`)' }
    }
  },
  response: {
    200: {
      type: 'object',
      required: ['events'],
      properties: {
        events: { type: 'array', items: EVENT_VIEW },
        next: { type: 'string', description: 'present when more events may follow: the next page\'s `cursor`' }
      }
    },
    ...errorResponses(...COMMON_ERROR_STATUSES)
  }
}

export interface DigestParams {
  digest: string
}

export const GET_EVENT_SCHEMA = {
  tags: ['events'],
  summary: 'One signed CloudEvent, byte for byte as stored (identical on every node)',
  security: BEARER_SECURITY,
  params: {
    type: 'object',
    required: ['digest'],
    properties: { digest: { type: 'string', pattern: DIGEST_PATTERN, description: 'lowercase hex sha256 of the record' } }
  },
  response: {
    200: {
      description: 'the signed record (CloudEvents JSON format with the Verifiability extension)',
      content: { [MEDIA_CLOUDEVENT]: { schema: { type: 'object', additionalProperties: true } } }
    },
    ...errorResponses(...COMMON_ERROR_STATUSES, 404)
  }
}
