import { InvalidSinkError } from './errors.js'
import {
  DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_AGE_SECONDS, DEFAULT_TIMEOUT_MS, MIN_TIMEOUT_MS, MAX_TIMEOUT_MS,
  MAX_MAX_ATTEMPTS as MAX_ATTEMPTS_LIMIT, MAX_MAX_AGE_SECONDS as MAX_AGE_SECONDS_LIMIT
} from '../subscriptions/index.js'
import type { StoredEvent } from '../store/types.js'
import type { WebhookSink } from '../subscriptions/types.js'

/*
 * A sink's limits, their defaults and bounds are the subscription contract's (subscriptions/):
 * every subscription reaching delivery was validated there with its defaults filled in, so a
 * second set here would only make a subscription the API accepted unusable (a worker stuck
 * "invalid"). maxAttempts 10 with the default backoff (0.5 s base, 60 s cap, full jitter) waits
 * at most about three minutes in all.
 */
export { DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_AGE_SECONDS, DEFAULT_TIMEOUT_MS, MIN_TIMEOUT_MS, MAX_TIMEOUT_MS, MAX_ATTEMPTS_LIMIT, MAX_AGE_SECONDS_LIMIT }

/** Custom headers are for auth tokens and routing hints, not payloads. */
export const MAX_SINK_HEADERS = 32
export const MAX_SINK_HEADER_VALUE_LENGTH = 4096
export const MAX_SINK_URL_LENGTH = 2048

export const STRUCTURED_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8'
const DEFAULT_DATA_CONTENT_TYPE = 'application/json'
const UTF8 = new TextEncoder()

/** Header names the delivery sets itself; a sink's custom headers can never replace them. */
const RESERVED_HEADERS = new Set([
  'content-type', 'content-length', 'content-encoding', 'transfer-encoding', 'host', 'connection',
  'keep-alive', 'upgrade', 'te', 'trailer', 'expect'
])
const RESERVED_PREFIXES = ['ce-', 'x-cdgossip-']

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const HEADER_VALUE = /^[\t\x20-\x7e]*$/
/** CloudEvents attribute names: lowercase letters and digits, at most 20 (spec §3.1.1 naming). */
const ATTRIBUTE_NAME = /^[a-z0-9]{1,20}$/
/** Attributes that are not carried as `ce-` headers in binary mode. */
const NON_HEADER_ATTRIBUTES = new Set(['datacontenttype', 'data', 'data_base64'])

export function isReservedHeader (name: string): boolean {
  const lower = name.toLowerCase()
  return RESERVED_HEADERS.has(lower) || RESERVED_PREFIXES.some(prefix => lower.startsWith(prefix))
}

/** Defaults a sink's absent limits fall back to. */
export interface SinkDefaults {
  maxAttempts: number
  maxAgeSeconds: number
  timeoutMs: number
}

/** A webhook sink checked and with its limits filled in. */
export interface ResolvedSink {
  url: string
  mode: 'binary' | 'structured'
  headers: Record<string, string>
  maxAttempts: number
  maxAgeMs: number
  timeoutMs: number
}

/**
 * Check a sink as a subscription declares it and fill in its limits. Throws InvalidSinkError
 * listing every problem. api/ or subscriptions/ can call it when a subscription is created.
 */
export function resolveWebhookSink (sink: WebhookSink, defaults: Partial<SinkDefaults> = {}): ResolvedSink {
  const problems: string[] = []

  let url = ''
  if (typeof sink.url !== 'string' || sink.url.length > MAX_SINK_URL_LENGTH) {
    problems.push(`url must be a string of at most ${MAX_SINK_URL_LENGTH} characters`)
  } else {
    try {
      const parsed = new URL(sink.url)
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') problems.push('url must be http or https')
      else if (parsed.username !== '' || parsed.password !== '') problems.push('url must not carry credentials; use headers')
      else url = parsed.href
    } catch {
      problems.push('url is not a valid URL')
    }
  }

  const mode = sink.mode ?? 'binary'
  if (mode !== 'binary' && mode !== 'structured') problems.push('mode must be binary or structured')

  const headers: Record<string, string> = {}
  if (sink.headers !== undefined) {
    if (typeof sink.headers !== 'object' || sink.headers === null || Array.isArray(sink.headers)) {
      problems.push('headers must be an object of strings')
    } else {
      const entries = Object.entries(sink.headers)
      if (entries.length > MAX_SINK_HEADERS) problems.push(`at most ${MAX_SINK_HEADERS} headers`)
      for (const [name, value] of entries.slice(0, MAX_SINK_HEADERS)) {
        if (!TOKEN.test(name)) problems.push(`header name ${JSON.stringify(name.slice(0, 64))} is not a valid token`)
        else if (isReservedHeader(name)) problems.push(`header ${name} is set by cdgossip and cannot be overridden`)
        else if (typeof value !== 'string' || value.length > MAX_SINK_HEADER_VALUE_LENGTH || !HEADER_VALUE.test(value)) {
          problems.push(`header ${name} must be printable ASCII of at most ${MAX_SINK_HEADER_VALUE_LENGTH} characters`)
        } else headers[name.toLowerCase()] = value
      }
    }
  }

  const maxAttempts = integerIn(sink.maxAttempts ?? defaults.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, 1, MAX_ATTEMPTS_LIMIT, 'maxAttempts', problems)
  const maxAgeSeconds = integerIn(sink.maxAgeSeconds ?? defaults.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS, 1, MAX_AGE_SECONDS_LIMIT, 'maxAgeSeconds', problems)
  const timeoutMs = integerIn(sink.timeoutMs ?? defaults.timeoutMs ?? DEFAULT_TIMEOUT_MS, MIN_TIMEOUT_MS, MAX_TIMEOUT_MS, 'timeoutMs', problems)

  if (problems.length > 0) throw new InvalidSinkError({ problems })
  return { url, mode, headers, maxAttempts, maxAgeMs: maxAgeSeconds * 1000, timeoutMs }
}

/** Throws InvalidSinkError when the sink cannot be used. */
export function validateWebhookSink (sink: WebhookSink): void {
  resolveWebhookSink(sink)
}

function integerIn (value: unknown, min: number, max: number, name: string, problems: string[]): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name} must be an integer in [${min}, ${max}]`)
    return min
  }
  return value
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
export function buildWebhookRequest (stored: StoredEvent, sink: Pick<WebhookSink, 'mode' | 'headers'>): WebhookRequest {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(sink.headers ?? {})) {
    if (typeof value === 'string' && TOKEN.test(name) && !isReservedHeader(name) && HEADER_VALUE.test(value)) {
      headers[name.toLowerCase()] = value
    }
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
