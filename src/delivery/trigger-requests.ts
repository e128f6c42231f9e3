import type { StoredEvent } from '../events/records.js'
import { parseRetryAfter } from './backoff.js'
import type { CheckedTriggerSink } from '../subscriptions/index.js'

/**
 * The HTTP request each tool's API documents for "start work now", built from one stored record.
 * Pure: the caller reads the token (credentials.ts) and sends (webhook-client.ts), so retries,
 * backoff and dead letters are the webhook sink's, not a copy.
 */

/** GitHub REST API version these requests follow (sent as X-GitHub-Api-Version). */
export const GITHUB_API_VERSION = '2022-11-28'
export const GITHUB_ACCEPT = 'application/vnd.github+json'
/** GitHub refuses requests without a User-Agent; tools' logs show who called. */
export const TRIGGER_USER_AGENT = 'cdgossip'
/** GitHub: repository_dispatch's event_type is at most 100 characters. */
export const MAX_DISPATCH_EVENT_TYPE_LENGTH = 100
/**
 * client_payload's size bound: GitHub documents a limit of 10 top-level properties, not a size, but
 * a workflow's event payload is not the place for megabytes; 64 KiB holds any ordinary subject.
 */
export const MAX_CLIENT_PAYLOAD_BYTES = 64 * 1024

const UTF8 = new TextEncoder()

export interface TriggerRequest {
  url: string
  headers: Record<string, string>
  body: Uint8Array
}

/** What every tool receives about the event, named as in CDEvents. */
export interface TriggerFacts {
  type: string
  id: string
  source: string
  subjectId: string
  chainId: string | null
  digest: string
  origin: string
  eventClass: string
  content: Record<string, unknown>
}

export function triggerFacts (stored: StoredEvent): TriggerFacts {
  const { cdevent, digest, origin, eventClass } = stored.event
  const content = cdevent.subject.content
  return {
    type: cdevent.context.type,
    id: cdevent.context.id,
    source: cdevent.context.source,
    subjectId: cdevent.subject.id,
    chainId: cdevent.context.chainId ?? null,
    digest,
    origin,
    eventClass,
    content: typeof content === 'object' && content !== null && !Array.isArray(content) ? content as Record<string, unknown> : {}
  }
}

/** `CDEVENT_*` variables / parameters for GitLab and Jenkins; CDEVENT_CHAIN_ID only when the event has one. */
export function cdeventVariables (facts: TriggerFacts): Array<[string, string]> {
  const variables: Array<[string, string]> = [
    ['CDEVENT_TYPE', facts.type],
    ['CDEVENT_ID', facts.id],
    ['CDEVENT_SOURCE', facts.source],
    ['CDEVENT_SUBJECT_ID', facts.subjectId]
  ]
  if (facts.chainId !== null) variables.push(['CDEVENT_CHAIN_ID', facts.chainId])
  variables.push(['CDEVENT_DIGEST', facts.digest], ['CDEVENT_ORIGIN', facts.origin], ['CDEVENT_CLASS', facts.eventClass])
  return variables
}

function jsonBytes (value: unknown): number {
  return UTF8.encode(JSON.stringify(value)).byteLength
}

/**
 * GitHub's client_payload: nine top-level properties (GitHub allows ten), the subject content
 * nested under `content`. Over MAX_CLIENT_PAYLOAD_BYTES, content fields are kept in their order
 * while they fit and the rest left out, and `truncated` is true.
 */
export function clientPayload (facts: TriggerFacts, maxBytes = MAX_CLIENT_PAYLOAD_BYTES): Record<string, unknown> {
  const payload = {
    type: facts.type,
    id: facts.id,
    source: facts.source,
    subjectId: facts.subjectId,
    chainId: facts.chainId,
    digest: facts.digest,
    origin: facts.origin,
    content: facts.content,
    truncated: false
  }
  if (jsonBytes(payload) <= maxBytes) return payload
  const content: Record<string, unknown> = {}
  let size = jsonBytes({ ...payload, content, truncated: true })
  for (const [key, value] of Object.entries(facts.content)) {
    // `"key":value` plus a separating comma
    const entry = jsonBytes(key) + 1 + jsonBytes(value ?? null) + 1
    if (size + entry > maxBytes) continue
    content[key] = value
    size += entry
  }
  return { ...payload, content, truncated: true }
}

function encodeJson (value: unknown): Uint8Array {
  return UTF8.encode(JSON.stringify(value))
}

const EPOCH_SECONDS = /^\d{1,12}$/

/**
 * GitHub answers its primary and secondary rate limits with 403 (or 429): `Retry-After` when
 * present, else `x-ratelimit-remaining: 0` with the reset time in `x-ratelimit-reset` (epoch
 * seconds). Those are waits, not refusals; any other 403 (a token without permission) is final.
 */
export function githubRateLimitWait (status: number, headers: Headers, nowMs: number): number | undefined {
  if (status !== 403 && status !== 429) return undefined
  const retryAfter = parseRetryAfter(headers.get('retry-after'), nowMs)
  if (retryAfter !== undefined) return retryAfter
  if (headers.get('x-ratelimit-remaining') !== '0') return undefined
  const reset = headers.get('x-ratelimit-reset')?.trim()
  if (reset === undefined || !EPOCH_SECONDS.test(reset)) return undefined
  return Math.max(0, Number(reset) * 1000 - nowMs)
}

type Sink<T extends CheckedTriggerSink['type']> = Extract<CheckedTriggerSink, { type: T }>

/** `POST {apiUrl}/repos/{owner}/{repo}/dispatches`; GitHub answers 204. */
export function githubDispatchRequest (stored: StoredEvent, sink: Sink<'github-dispatch'>, token: string): TriggerRequest {
  const facts = triggerFacts(stored)
  return {
    url: `${sink.apiUrl}/repos/${encodeURIComponent(sink.owner)}/${encodeURIComponent(sink.repo)}/dispatches`,
    headers: {
      accept: GITHUB_ACCEPT,
      authorization: `Bearer ${token}`,
      'x-github-api-version': GITHUB_API_VERSION,
      'user-agent': TRIGGER_USER_AGENT,
      'content-type': 'application/json'
    },
    body: encodeJson({
      event_type: facts.eventClass.slice(0, MAX_DISPATCH_EVENT_TYPE_LENGTH),
      client_payload: clientPayload(facts)
    })
  }
}

/**
 * `POST {gitlabUrl}/api/v4/projects/{id or URL-encoded path}/trigger/pipeline`, form-encoded
 * `token`, `ref` and `variables[CDEVENT_*]`; GitLab answers 201.
 */
export function gitlabPipelineRequest (stored: StoredEvent, sink: Sink<'gitlab-pipeline'>, token: string): TriggerRequest {
  const form = new URLSearchParams()
  form.set('token', token)
  form.set('ref', sink.ref)
  for (const [name, value] of cdeventVariables(triggerFacts(stored))) form.set(`variables[${name}]`, value)
  return {
    url: `${sink.gitlabUrl}/api/v4/projects/${encodeURIComponent(sink.project)}/trigger/pipeline`,
    headers: {
      'user-agent': TRIGGER_USER_AGENT,
      'content-type': 'application/x-www-form-urlencoded'
    },
    body: UTF8.encode(form.toString())
  }
}

/** `/job/a/job/b` for the job `a/b`: each folder is a `job/` path segment. */
export function jenkinsJobPath (job: string): string {
  return job.split('/').map(segment => `/job/${encodeURIComponent(segment)}`).join('')
}

/**
 * `POST {jenkinsUrl}/job/…/buildWithParameters?CDEVENT_*=…` with basic auth (user + API token, which
 * needs no CSRF crumb); Jenkins answers 201 with the queue item in Location.
 */
export function jenkinsBuildRequest (stored: StoredEvent, sink: Sink<'jenkins-build'>, token: string): TriggerRequest {
  const query = new URLSearchParams(cdeventVariables(triggerFacts(stored)))
  return {
    url: `${sink.jenkinsUrl}${jenkinsJobPath(sink.job)}/buildWithParameters?${query.toString()}`,
    headers: {
      authorization: `Basic ${Buffer.from(`${sink.user}:${token}`).toString('base64')}`,
      'user-agent': TRIGGER_USER_AGENT
    },
    body: new Uint8Array(0)
  }
}
