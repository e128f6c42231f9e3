import { STATUS_CODES } from 'node:http'
import { ERROR_STATUS } from './error-status.js'

/**
 * Schemas shared by several route groups. Request schemas are plain objects composed by
 * spreading, not `$ref`s: the validators run on their own Ajv instances (see validation.ts),
 * which have no shared-schema registry. Only the error schema, used in responses alone (the
 * serializer and the OpenAPI document resolve it), is shared by `$ref`.
 */

/** The security requirement of every protected route (the OpenAPI document declares `bearerAuth`). */
export const BEARER_SECURITY = [{ bearerAuth: [] }] as const

/** Longest free-text filter or identifier a client may send (CloudEvent sources are URI-references). */
export const MAX_TEXT_LENGTH = 1024
/** Longest peer ID or cursor a client may send. */
export const MAX_ID_LENGTH = 128

export const DIGEST_PATTERN = '^[0-9a-f]{64}$'
/** libp2p peer IDs as text: base58btc (`12D3KooW…`, `Qm…`) or a base32 CID (`bafz…`). */
export const PEER_ID_PATTERN = '^[A-Za-z0-9]+$'
/** Trust names, and the alphabet shared by names and peer IDs (trust/ tells them apart). */
export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*$'

/** `$id` of the shared error schema (added by buildApi, a component of the OpenAPI document). */
export const ERROR_SCHEMA_ID = 'ApiError'

export const ERROR_SCHEMA = {
  $id: ERROR_SCHEMA_ID,
  type: 'object',
  description: 'Fastify\'s error shape; `code` is stable (see the error table), the message is for humans.',
  required: ['statusCode', 'code', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string', enum: Object.keys(ERROR_STATUS) },
    error: { type: 'string' },
    message: { type: 'string' },
    violations: {
      type: 'array',
      description: 'Schema violations (CDG_INVALID_EVENT, CDG_INVALID_REQUEST): JSON pointer and message; in a refused batch also the event\'s index (from 0) and id.',
      items: {
        type: 'object',
        required: ['path', 'message'],
        properties: { path: { type: 'string' }, message: { type: 'string' }, index: { type: 'integer' }, id: { type: 'string' } }
      }
    },
    mismatches: {
      type: 'array',
      description: 'CloudEvent attributes that disagree with the CDEvent (CDG_INVALID_CLOUDEVENT).',
      items: {}
    }
  }
} as const

/** Error responses for the OpenAPI document (and the serializer) of the given statuses. */
export function errorResponses (...statuses: number[]): Record<string, unknown> {
  const responses: Record<string, unknown> = {}
  for (const status of statuses) {
    responses[String(status)] = { $ref: `${ERROR_SCHEMA_ID}#`, description: STATUS_CODES[status] ?? 'Error' }
  }
  return responses
}

/** Statuses every protected route can answer with, whatever it does. */
export const COMMON_ERROR_STATUSES = [400, 401, 500, 503] as const

export function peerIdSchema (description: string): Record<string, unknown> {
  return { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH, pattern: PEER_ID_PATTERN, description }
}
