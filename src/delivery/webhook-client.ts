import type { WebhookRequest } from './cloudevents-http.js'
import { parseRetryAfter } from './backoff.js'

/**
 * @default 2048 — enough to show a receiver's error message, never enough for a hostile
 * receiver to make us buffer megabytes
 */
export const DEFAULT_MAX_ERROR_BODY_BYTES = 2048
/** lastError is shown in status and dead letters; keep it short. */
const MAX_ERROR_TEXT = 300

export type SendResult =
  /** 2xx: acknowledged */
  | { kind: 'delivered', status: number }
  /** network error, timeout, 408, 429 or 5xx: try again later */
  | { kind: 'retryable', status?: number, error: string, retryAfterMs?: number }
  /** any other answer: retrying cannot help */
  | { kind: 'rejected', status: number, error: string }
  /** the caller's signal fired (service stopping): not an attempt that counts */
  | { kind: 'aborted' }

export interface SendOptions {
  timeoutMs: number
  /** aborts the request when the service stops */
  signal: AbortSignal
  maxErrorBodyBytes?: number
  now?: () => number
  /** secrets sent with the request (a trigger sink's token): replaced in any error text, which is stored and shown */
  redact?: readonly string[]
  /**
   * A receiver's own way of saying "too many requests" on a status that is otherwise final (GitHub
   * answers rate limits with 403): the wait it asks for in ms, or undefined when this is not one.
   */
  rateLimitWait?: (status: number, headers: Headers, nowMs: number) => number | undefined
}

/** What a redacted secret reads as in errors. */
export const REDACTED_SECRET = '[redacted]'

/** POST one webhook request and classify the answer. Never throws for network or HTTP failures. */
export async function sendWebhook (url: string, request: WebhookRequest, options: SendOptions): Promise<SendResult> {
  if (options.signal.aborted) return { kind: 'aborted' }
  const maxBody = options.maxErrorBodyBytes ?? DEFAULT_MAX_ERROR_BODY_BYTES
  // One controller per request, unlinked in `finally`: AbortSignal.any() over the worker's
  // long-lived signal retains every composite on Node 20-22 (nodejs/node#54614, #55351).
  const controller = new AbortController()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort()
  }, options.timeoutMs)
  const onAbort = (): void => { controller.abort() }
  options.signal.addEventListener('abort', onAbort, { once: true })
  const signal = controller.signal

  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal,
      // A receiver that redirects would get our custom (auth) headers sent wherever it points.
      redirect: 'manual'
    })
    const status = response.status
    if (status >= 200 && status < 300) {
      await discardBody(response)
      return { kind: 'delivered', status }
    }
    const text = redact(await readBounded(response, maxBody), options.redact)
    const error = describeStatus(status, text)
    if (status === 408 || status === 429 || status >= 500) {
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), (options.now ?? Date.now)())
      return retryAfterMs === undefined
        ? { kind: 'retryable', status, error }
        : { kind: 'retryable', status, error, retryAfterMs }
    }
    if (status >= 300 && status < 400) return { kind: 'rejected', status, error: `${error} (redirects are not followed)` }
    const wait = options.rateLimitWait?.(status, response.headers, (options.now ?? Date.now)())
    if (wait !== undefined) return { kind: 'retryable', status, error: `${error} (rate limited)`, retryAfterMs: wait }
    return { kind: 'rejected', status, error }
  } catch (err) {
    if (options.signal.aborted) return { kind: 'aborted' }
    if (timedOut) return { kind: 'retryable', error: `timeout after ${options.timeoutMs} ms` }
    return { kind: 'retryable', error: redact(describeNetworkError(err), options.redact) }
  } finally {
    clearTimeout(timer)
    options.signal.removeEventListener('abort', onAbort)
  }
}

async function discardBody (response: Response): Promise<void> {
  try {
    await response.body?.cancel()
  } catch {
    // the connection is dropped either way; nothing to report for an acknowledged delivery
  }
}

/** Read at most `max` bytes of the body, then drop the rest. */
async function readBounded (response: Response, max: number): Promise<string> {
  const body = response.body
  if (body === null) return ''
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  try {
    while (total < max) {
      const { done, value } = await reader.read()
      if (done) break
      chunks.push(value)
      total += value.byteLength
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
  return Buffer.concat(chunks).subarray(0, max).toString('utf8')
}

/** Longest first, so a secret that contains another is replaced whole. */
function redact (text: string, secrets: readonly string[] | undefined): string {
  if (secrets === undefined) return text
  let out = text
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret !== '') out = out.split(secret).join(REDACTED_SECRET)
  }
  return out
}

function clean (text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, MAX_ERROR_TEXT)
}

function describeStatus (status: number, body: string): string {
  const text = clean(body)
  return text === '' ? `HTTP ${status}` : `HTTP ${status}: ${text}`
}

function describeNetworkError (err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause
    if (cause instanceof Error) {
      const code = (cause as { code?: unknown }).code
      return clean(typeof code === 'string' ? `${code}: ${cause.message}` : cause.message)
    }
    return clean(err.message)
  }
  return 'network error'
}
