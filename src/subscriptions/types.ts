import type { EventClass } from '../events/types.js'

/** Where a subscription starts reading: live only, all history, after a cursor, or from a time. */
export type SubscriptionStart =
  | { kind: 'now' }
  | { kind: 'beginning' }
  | { kind: 'cursor', cursor: string }
  | { kind: 'time', time: string }

export interface SubscriptionFilter {
  /** origin peer IDs or trust names */
  origins?: string[]
  /** CloudEvent source prefix */
  sourcePrefix?: string
  /** subject id, exact */
  subject?: string
  /** subject.content.outcome, exact (e.g. `failure`) */
  outcome?: string
}

export interface WebhookSink {
  type: 'webhook'
  url: string
  /** CloudEvents HTTP binary mode (default) or structured mode */
  mode: 'binary' | 'structured'
  /** extra request headers, e.g. an auth token for the receiver */
  headers?: Record<string, string>
  /** retry budget before an event goes to the dead letters */
  maxAttempts?: number
  /** give up on an event older than this many seconds since its first attempt */
  maxAgeSeconds?: number
  /** per-request timeout */
  timeoutMs?: number
}

/**
 * Where a trigger sink reads its secret: a file (mode 0600 or stricter) or an environment variable
 * of the node's process, exactly one. Only the reference is stored and shown; the secret is read at
 * each attempt, so a rotated file is picked up without touching the subscription.
 */
export interface CredentialRef {
  /** absolute path of a file holding the token */
  tokenFile?: string
  /** name of an environment variable holding the token */
  tokenEnv?: string
}

/** The retry budget every delivering sink carries (same rules and defaults as a webhook's). */
export interface DeliveryLimits {
  /** retry budget before an event goes to the dead letters */
  maxAttempts?: number
  /** give up on an event older than this many seconds since its first attempt */
  maxAgeSeconds?: number
  /** per-request timeout */
  timeoutMs?: number
}

/** GitHub repository_dispatch: `POST {apiUrl}/repos/{owner}/{repo}/dispatches` with a bearer token. */
export interface GithubDispatchSink extends CredentialRef, DeliveryLimits {
  type: 'github-dispatch'
  /** https://api.github.com, or a GitHub Enterprise Server's `https://HOST/api/v3` */
  apiUrl?: string
  owner: string
  repo: string
}

/** GitLab pipeline trigger: `POST {gitlabUrl}/api/v4/projects/{project}/trigger/pipeline` with a trigger token. */
export interface GitlabPipelineSink extends CredentialRef, DeliveryLimits {
  type: 'gitlab-pipeline'
  /** https://gitlab.com, or a self-managed instance's URL */
  gitlabUrl?: string
  /** numeric project id or `group/project` path */
  project: string
  /** branch or tag the pipeline runs for */
  ref: string
}

/** Jenkins: `POST {jenkinsUrl}/job/{a}/job/{b}/buildWithParameters` with a user and API token (basic auth). */
export interface JenkinsBuildSink extends CredentialRef, DeliveryLimits {
  type: 'jenkins-build'
  jenkinsUrl: string
  /** the job's full name, folders separated by `/` (`team/app/build`) */
  job: string
  user: string
}

/** Sinks that start work in a tool when an event arrives. */
export type TriggerSink = GithubDispatchSink | GitlabPipelineSink | JenkinsBuildSink
export type TriggerSinkType = TriggerSink['type']

/** Sinks the delivery service sends to (everything but `store`). */
export type DeliverySink = WebhookSink | TriggerSink

export type SubscriptionSink = { type: 'store' } | DeliverySink

/** A local declaration of interest: which classes to join and keep, and where they go. */
export interface Subscription {
  id: string
  /** class patterns: exact (`artifact.published`), `subject.*`, or `*` */
  classes: string[]
  filter: SubscriptionFilter
  /** accept events marked untrusted (open trust mode) */
  includeUntrusted: boolean
  start: SubscriptionStart
  sink: SubscriptionSink
  /** ISO time of creation */
  createdAt: string
  /** `config` entries come from the config file and cannot be deleted over the API */
  origin: 'config' | 'api'
}

/** The facts a subscription filter needs about one event. */
export interface MatchableEvent {
  eventClass: EventClass
  origin: string
  source: string
  subjectId: string
  outcome?: string
  trusted: boolean
}
