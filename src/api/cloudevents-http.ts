import type { IncomingHttpHeaders } from 'node:http'
import { CdgossipError, InvalidRequestError } from '../errors.js'
import { MalformedCloudEventError, UnsupportedMediaTypeError } from './errors.js'
import type { PublishItem } from './types.js'

/**
 * Most events one POST may carry. A batch is validated, signed and stored all-or-nothing in one
 * call, so its size bounds the work (and the store batch) a single request can demand.
 */
export const MAX_BATCH_ITEMS = 1000

export const MEDIA_JSON = 'application/json'
export const MEDIA_CLOUDEVENT = 'application/cloudevents+json'
export const MEDIA_CLOUDEVENT_BATCH = 'application/cloudevents-batch+json'

/** What POST /v1/events accepts, in the order a 415 answer lists them. */
export const EVENT_MEDIA_TYPES: readonly string[] = Object.freeze([MEDIA_JSON, MEDIA_CLOUDEVENT, MEDIA_CLOUDEVENT_BATCH])

const CE_HEADER_PREFIX = 'ce-'
const ECHO_MAX = 200
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const UTF8 = new TextDecoder('utf-8', { fatal: true })

export interface ParsedPublish {
  items: PublishItem[]
  /** the request carried a list (JSON array or CloudEvents batch): answer with a list */
  batch: boolean
}

/**
 * Turn a publish request (body already parsed as JSON, shape already checked by the route schema)
 * into the items for `NodeFacade.publish`, per the CloudEvents HTTP binding:
 * - `application/json` with a `ce-specversion` header: binary mode, the body is the CDEvent
 * - `application/json` otherwise: a bare CDEvent, or an array of them
 * - `application/cloudevents+json`: structured mode, one CloudEvent whose data is the CDEvent
 * - `application/cloudevents-batch+json`: an array of structured CloudEvents
 */
export function parsePublishRequest (mediaType: string | undefined, headers: IncomingHttpHeaders, body: unknown): ParsedPublish {
  switch (mediaType) {
    case MEDIA_JSON:
      if (headers['ce-specversion'] !== undefined) {
        if (!isObject(body)) throw new InvalidRequestError('a binary-mode CloudEvent carries exactly one CDEvent object as its body')
        return { items: [{ cdevent: body, cloudEventAttributes: binaryModeAttributes(headers) }], batch: false }
      }
      if (Array.isArray(body)) return { items: boundedList(body).map((cdevent) => ({ cdevent })), batch: true }
      if (!isObject(body)) throw new InvalidRequestError('the body must be a CDEvent object or an array of them')
      return { items: [{ cdevent: body }], batch: false }
    case MEDIA_CLOUDEVENT:
      if (!isObject(body)) throw new InvalidRequestError('a structured-mode body must be one CloudEvent object')
      return { items: [structuredModeItem(body)], batch: false }
    case MEDIA_CLOUDEVENT_BATCH:
      if (!Array.isArray(body)) throw new InvalidRequestError('a CloudEvents batch must be a JSON array')
      return {
        items: boundedList(body).map((ce, i) => {
          if (!isObject(ce)) throw new InvalidRequestError(`batch item ${i} is not a CloudEvent object`)
          try {
            return structuredModeItem(ce)
          } catch (err) {
            if (!(err instanceof MalformedCloudEventError)) throw err
            // name the item, as the node names the events of a refused batch
            const id = typeof ce.id === 'string' ? ce.id.slice(0, ECHO_MAX) : undefined
            const mismatches = err.details?.mismatches.map((m) => ({ index: i, ...(id === undefined ? {} : { id }), ...m })) ?? []
            throw new CdgossipError(err.code, `batch item ${i}${id === undefined ? '' : ` (id ${id})`}: ${err.message}`, { details: { mismatches }, cause: err })
          }
        }),
        batch: true
      }
    default:
      throw new UnsupportedMediaTypeError(mediaType, EVENT_MEDIA_TYPES)
  }
}

/** A structured-mode CloudEvent: its attributes, and its data (inline JSON or base64) as the CDEvent. */
export function structuredModeItem (ce: Record<string, unknown>): PublishItem {
  const { data, data_base64: dataBase64, ...attributes } = ce
  const hasData = Object.hasOwn(ce, 'data')
  const hasBase64 = Object.hasOwn(ce, 'data_base64')
  if (hasData && hasBase64) throw new MalformedCloudEventError('a CloudEvent carries data or data_base64, never both', 'data_base64')
  if (!hasData && !hasBase64) throw new MalformedCloudEventError('the CloudEvent has no data; its data must be the CDEvent', 'data')
  const cdevent = hasData ? data : decodeBase64Json(dataBase64)
  return { cdevent, cloudEventAttributes: attributes }
}

/**
 * Binary-mode attributes: every `ce-` header, named without the prefix and percent-decoded
 * (HTTP binding §3.1.3.2), plus `datacontenttype` from the body's media type. The body was
 * parsed before it reached the node, so the charset parameter no longer means anything.
 */
export function binaryModeAttributes (headers: IncomingHttpHeaders): Record<string, unknown> {
  const attributes: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith(CE_HEADER_PREFIX) || value === undefined) continue
    const raw = Array.isArray(value) ? value.join(',') : value
    attributes[name.slice(CE_HEADER_PREFIX.length)] = percentDecode(name, raw)
  }
  attributes.datacontenttype = MEDIA_JSON
  return attributes
}

function percentDecode (header: string, value: string): string {
  try {
    return decodeURIComponent(value)
  } catch (err) {
    // the raw value is echoed back: clip it
    throw new MalformedCloudEventError(`header ${header} is not valid percent-encoded UTF-8`, header.slice(CE_HEADER_PREFIX.length), {
      value: value.slice(0, ECHO_MAX), cause: err
    })
  }
}

function decodeBase64Json (value: unknown): unknown {
  if (typeof value !== 'string' || !BASE64.test(value)) throw new MalformedCloudEventError('data_base64 is not base64', 'data_base64')
  try {
    return JSON.parse(UTF8.decode(Buffer.from(value, 'base64')))
  } catch (err) {
    throw new MalformedCloudEventError('data_base64 does not hold a UTF-8 JSON CDEvent', 'data_base64', { cause: err })
  }
}

function boundedList (list: unknown[]): unknown[] {
  if (list.length === 0) throw new InvalidRequestError('the batch is empty')
  if (list.length > MAX_BATCH_ITEMS) throw new InvalidRequestError(`a batch holds at most ${MAX_BATCH_ITEMS} events`)
  return list
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
