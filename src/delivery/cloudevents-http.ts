import { InvalidSinkError } from './errors.js'
import type { StoredEvent } from '../events/records.js'
import { InvalidSubscriptionError, isReservedHeader, validateWebhookSink } from '../subscriptions/index.js'
import type { WebhookSink } from '../subscriptions/types.js'

export const STRUCTURED_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8'
const DEFAULT_DATA_CONTENT_TYPE = 'application/json'
const UTF8 = new TextEncoder()

/** CloudEvents attribute names: lowercase letters and digits, at most 20 (spec §3.1.1 naming). */
const ATTRIBUTE_NAME = /^[a-z0-9]{1,20}$/
/** Attributes that are not carried as `ce-` headers in binary mode. */
const NON_HEADER_ATTRIBUTES = new Set(['datacontenttype', 'data', 'data_base64'])

/** A webhook sink checked and with its limits filled in. */
export interface ResolvedSink {
  url: string
  mode: 'binary' | 'structured'
  /** custom headers, names lowercase */
  headers: Record<string, string>
  maxAttempts: number
  maxAgeMs: number
  timeoutMs: number
}

/**
 * Check a subscription's sink with the one webhook-sink validator (subscriptions/webhook-sink.ts,
 * the same rules and defaults the API and config file apply) and fill in its limits. A sink that
 * fails them (one persisted by an earlier version whose rules were looser) is InvalidSinkError.
 */
export function resolveWebhookSink (sink: WebhookSink): ResolvedSink {
  let checked: ReturnType<typeof validateWebhookSink>
  try {
    checked = validateWebhookSink(sink)
  } catch (err) {
    if (!(err instanceof InvalidSubscriptionError)) throw err
    throw new InvalidSinkError({ problems: [err.message] }, { cause: err })
  }
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(checked.headers ?? {})) headers[name.toLowerCase()] = value
  return {
    url: checked.url,
    mode: checked.mode,
    headers,
    maxAttempts: checked.maxAttempts,
    maxAgeMs: checked.maxAgeSeconds * 1000,
    timeoutMs: checked.timeoutMs
  }
}

/**
 * Percent-encode a CloudEvents attribute value for an HTTP header (HTTP binding §3.1.3.2):
 * space, double-quote, percent and everything outside U+0021..U+007E become UTF-8 %XX.
 */
export function percentEncodeHeaderValue (value: string): string {
  let out = ''
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0
    if (code >= 0x21 && code <= 0x7e && code !== 0x22 && code !== 0x25) {
      out += char
      continue
    }
    for (const byte of UTF8.encode(char)) {
      out += '%' + byte.toString(16).toUpperCase().padStart(2, '0')
    }
  }
  return out
}

export interface WebhookRequest {
  headers: Record<string, string>
  body: Uint8Array
}

/**
 * The HTTP request for one record. Binary mode (default): attributes as `ce-*` headers, body = the
 * exact signed data bytes, so a receiver can check `ce-dssematerial` against what it got. Structured
 * mode: body = the exact signed wire record. Custom headers never replace the ones set here.
 */
export function buildWebhookRequest (stored: StoredEvent, sink: Pick<ResolvedSink, 'mode' | 'headers'>): WebhookRequest {
  const headers: Record<string, string> = {}
  // the sink was validated; reserved names are skipped again so no caller can replace the headers set here
  for (const [name, value] of Object.entries(sink.headers ?? {})) {
    if (!isReservedHeader(name)) headers[name.toLowerCase()] = value
  }

  const event = stored.event
  headers['x-cdgossip-origin'] = percentEncodeHeaderValue(event.origin)
  headers['x-cdgossip-cursor'] = percentEncodeHeaderValue(stored.cursor)

  if (sink.mode === 'structured') {
    headers['content-type'] = STRUCTURED_CONTENT_TYPE
    return { headers, body: event.bytes }
  }

  for (const [name, value] of Object.entries(event.attributes)) {
    if (NON_HEADER_ATTRIBUTES.has(name) || !ATTRIBUTE_NAME.test(name)) continue
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') continue
    headers[`ce-${name}`] = percentEncodeHeaderValue(String(value))
  }
  const contentType = event.attributes.datacontenttype
  headers['content-type'] = typeof contentType === 'string' && contentType !== '' && /^[\x20-\x7e]+$/.test(contentType)
    ? contentType
    : DEFAULT_DATA_CONTENT_TYPE
  return { headers, body: event.data }
}
