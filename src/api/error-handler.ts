import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { isCdgossipError } from '../errors.js'
import type { Violation as EventViolation } from '../events/errors.js'
import { ERROR_STATUS, INTERNAL_ERROR_CODE, type ApiErrorCode } from './error-status.js'
import { unsupportedMediaTypeMessage } from './errors.js'

/** Violations and mismatches are copied from untrusted input: bound how many a body repeats. */
export const MAX_REPORTED_PROBLEMS = 100

/** Media types a route accepts when it does not say otherwise (route config `acceptedMediaTypes`). */
export const DEFAULT_MEDIA_TYPES: readonly string[] = ['application/json']

/** One schema violation: where (JSON pointer into the checked document) and what. */
/** A validation failure as the error body lists it: the event's violation, placed in its batch. */
export interface Violation extends EventViolation {
  /** in a refused batch: the event's position in the request, from 0 */
  index?: number
  /** in a refused batch: the event's id, when it has one */
  id?: string
}

/** Fastify's error shape, plus cdgossip's optional problem lists. */
export interface ErrorBody {
  statusCode: number
  code: ApiErrorCode
  error: string
  message: string
  violations?: Violation[]
  mismatches?: unknown[]
}

export interface ErrorResponse {
  body: ErrorBody
  headers: Record<string, string>
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** media types the route's body may have; named in 415 answers */
    acceptedMediaTypes?: readonly string[]
  }
}

interface AjvLikeError {
  instancePath?: string
  message?: string
  params?: Record<string, unknown>
}

/**
 * Turn anything thrown while serving a request into the status, body and headers of the answer.
 * Pure apart from reading the request, so the mapping is testable without a server.
 */
export function toErrorResponse (err: unknown, request: FastifyRequest, bodyLimit: number): ErrorResponse {
  const headers: Record<string, string> = {}

  if (isCdgossipError(err)) {
    const body = errorBody(err.code, err.message)
    const violations = violationsFrom(err.details, err.message)
    if (violations !== undefined) body.violations = violations
    const mismatches = mismatchesFrom(err.details)
    if (mismatches !== undefined) body.mismatches = mismatches
    if (err.code === 'CDG_UNAUTHORIZED') headers['www-authenticate'] = wwwAuthenticate(err.details)
    if (err.code === 'CDG_UNSUPPORTED_MEDIA_TYPE') headers['accept-post'] = acceptedMediaTypes(request).join(', ')
    return { body, headers }
  }

  const fastifyError = err as Partial<FastifyError> | undefined
  const code = fastifyError?.code
  const statusCode = fastifyError?.statusCode

  if (Array.isArray(fastifyError?.validation)) {
    const body = errorBody('CDG_INVALID_REQUEST', fastifyError.message ?? 'invalid request')
    body.violations = fastifyError.validation.slice(0, MAX_REPORTED_PROBLEMS).map(ajvViolation)
    return { body, headers }
  }
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { body: errorBody('CDG_EVENT_TOO_LARGE', `request body is over the ${bodyLimit}-byte limit`), headers }
  }
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    const accepted = acceptedMediaTypes(request)
    headers['accept-post'] = accepted.join(', ')
    return { body: errorBody('CDG_UNSUPPORTED_MEDIA_TYPE', unsupportedMediaTypeMessage(request.headers['content-type'], accepted)), headers }
  }
  if (err instanceof SyntaxError && statusCode === 400) {
    // Fastify's JSON parser: the body is not JSON
    return { body: errorBody('CDG_INVALID_REQUEST', `request body is not valid JSON: ${err.message}`), headers }
  }
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    // the rest of Fastify's client errors (empty JSON body, content-length mismatch, bad URL, …)
    return { body: errorBody(codeForClientStatus(statusCode), fastifyError?.message ?? 'bad request'), headers }
  }
  // A fault, not a refusal: say nothing about internals (the log has the error).
  return { body: errorBody(INTERNAL_ERROR_CODE, 'internal server error'), headers }
}

/**
 * The one error handler (Fastify's setErrorHandler): answers with the mapped status and body,
 * logging 5xx at error with the error and 4xx at info.
 */
export function createErrorHandler (bodyLimit: number) {
  return function errorHandler (err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const { body, headers } = toErrorResponse(err, request, bodyLimit)
    if (body.statusCode >= 500) {
      request.log.error({ err }, 'request failed')
    } else {
      // a refusal is the client's mistake: its code and message say enough; no stack, no echoed input
      request.log.info({ code: body.code, statusCode: body.statusCode, message: body.message }, 'request refused')
    }
    return reply.code(body.statusCode).headers(headers).send(body)
  }
}

/** Fastify's setNotFoundHandler: unknown routes answer in the same shape as every other error. */
export function notFoundHandler (request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.code(404).send(errorBody('CDG_NOT_FOUND', `no route ${request.method} ${request.url.slice(0, 200)}`))
}

export function errorBody (code: ApiErrorCode, message: string): ErrorBody {
  const statusCode = ERROR_STATUS[code]
  return { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message }
}

function codeForClientStatus (status: number): ApiErrorCode {
  switch (status) {
    case 401: return 'CDG_UNAUTHORIZED'
    case 404: return 'CDG_NOT_FOUND'
    case 413: return 'CDG_EVENT_TOO_LARGE'
    case 415: return 'CDG_UNSUPPORTED_MEDIA_TYPE'
    default: return 'CDG_INVALID_REQUEST'
  }
}

function acceptedMediaTypes (request: FastifyRequest): readonly string[] {
  // routeOptions is set once routing matched, which precedes body parsing
  return request.routeOptions?.config?.acceptedMediaTypes ?? DEFAULT_MEDIA_TYPES
}

function wwwAuthenticate (details: unknown): string {
  // RFC 6750 §3: no error attribute when the client sent no credentials at all
  const invalid = isRecord(details) && details.reason === 'invalid'
  return invalid ? 'Bearer realm="cdgossip", error="invalid_token"' : 'Bearer realm="cdgossip"'
}

/** Ajv error → violation, pointing at the offending property itself where Ajv names it. */
function ajvViolation (e: AjvLikeError): Violation {
  let path = e.instancePath ?? ''
  const property = e.params?.missingProperty ?? e.params?.additionalProperty
  if (typeof property === 'string') path += '/' + escapePointer(property)
  return { path, message: e.message ?? 'invalid' }
}

function escapePointer (segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1')
}

/**
 * Violations from a node error's details: `{ violations: [...] }`, the array itself, or the
 * `{ field }` of trust/ and subscriptions/ input errors (`sink.url`, `classes[1]`).
 */
function violationsFrom (details: unknown, message: string): Violation[] | undefined {
  if (isRecord(details) && typeof details.field === 'string' && details.violations === undefined) {
    return [{ path: fieldToPointer(details.field), message }]
  }
  const list = Array.isArray(details) ? details : isRecord(details) ? details.violations : undefined
  if (!Array.isArray(list)) return undefined
  return list.slice(0, MAX_REPORTED_PROBLEMS).map((v: unknown) => {
    if (!isRecord(v)) return { path: '', message: String(v) }
    const path = v.path ?? v.instancePath ?? ''
    const violation: Violation = { path: String(path), message: String(v.message ?? 'invalid') }
    if (typeof v.index === 'number') violation.index = v.index
    if (typeof v.id === 'string') violation.id = v.id
    return violation
  })
}

/** `sink.headers.x-token`, `classes[1]` → `/sink/headers/x-token`, `/classes/1` */
function fieldToPointer (field: string): string {
  if (field === '') return ''
  return field.replace(/\[(\d+)\]/g, '.$1').split('.').map(escapePointer).map((s) => '/' + s).join('')
}

function mismatchesFrom (details: unknown): unknown[] | undefined {
  if (!isRecord(details) || !Array.isArray(details.mismatches)) return undefined
  return details.mismatches.slice(0, MAX_REPORTED_PROBLEMS)
}

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
