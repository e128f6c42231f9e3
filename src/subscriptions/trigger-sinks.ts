import { isAbsolute } from 'node:path'
import { InvalidSubscriptionError } from './errors.js'
import type { CredentialRef, GithubDispatchSink, GitlabPipelineSink, JenkinsBuildSink, TriggerSinkType } from './types.js'
import {
  WEBHOOK_SINK_FIELDS, deliveryLimitsSchemaProperties, describeValue, isPlainObject, validateDeliveryLimits, validateHttpUrl,
  webhookSinkSchemaProperties, MAX_WEBHOOK_URL_LENGTH
} from './webhook-sink.js'

/**
 * The trigger sinks' rules, once: sinks that start work in a tool (a GitHub workflow, a GitLab
 * pipeline, a Jenkins job) when an event arrives. Like webhook-sink.ts, the API, the config file
 * and delivery all check a sink with validateTriggerSink. A trigger sink never holds its secret:
 * it names a file or an environment variable, which delivery reads at each attempt.
 */

export const TRIGGER_SINK_TYPES: readonly TriggerSinkType[] = Object.freeze(['github-dispatch', 'gitlab-pipeline', 'jenkins-build'])

/** @default https://api.github.com */
export const DEFAULT_GITHUB_API_URL = 'https://api.github.com'
/** @default https://gitlab.com */
export const DEFAULT_GITLAB_URL = 'https://gitlab.com'

/** GitHub: a user or organisation login is 1..39 alphanumerics or single hyphens. */
export const GITHUB_OWNER_REGEX = '^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$'
/** GitHub: repository names are at most 100 of these characters. */
export const GITHUB_REPO_REGEX = '^[A-Za-z0-9._-]{1,100}$'
/** GitLab: a numeric project id, or a namespace path `group[/subgroup]/project`. */
export const GITLAB_PROJECT_REGEX = '^(?:[1-9][0-9]{0,18}|[A-Za-z0-9_.][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_.][A-Za-z0-9_.-]*)+)$'
/** GitLab limits a full project path to 255 characters. */
export const MAX_GITLAB_PROJECT_LENGTH = 255
/** A branch or tag name as git allows it: no spaces, controls or `~^:?*[\`. */
export const GIT_REF_REGEX = '^[^\\x00-\\x20\\x7f~^:?*[\\\\]{1,255}$'
/** Jenkins item names: no controls and none of the characters Jenkins refuses in a name. */
// eslint-disable-next-line no-control-regex
const JENKINS_SEGMENT = /^[^\x00-\x1f\x7f/\\:?#[\]|*<>"%;&]{1,255}$/
/** Folders nest a handful deep in practice; the bound keeps the URL short. */
export const MAX_JENKINS_JOB_DEPTH = 16
export const MAX_JENKINS_JOB_LENGTH = 1024
/** HTTP basic auth: the user id must not contain `:` (it separates user and token). */
export const JENKINS_USER_REGEX = '^[^\\x00-\\x1f\\x7f:]{1,128}$'
/** POSIX-style environment variable names. */
export const TOKEN_ENV_REGEX = '^[A-Za-z_][A-Za-z0-9_]{0,127}$'
/** PATH_MAX on Linux. */
export const MAX_TOKEN_FILE_LENGTH = 4096

const OWNER = new RegExp(GITHUB_OWNER_REGEX)
const REPO = new RegExp(GITHUB_REPO_REGEX)
const PROJECT = new RegExp(GITLAB_PROJECT_REGEX)
const GIT_REF = new RegExp(GIT_REF_REGEX)
const JENKINS_USER = new RegExp(JENKINS_USER_REGEX)
const TOKEN_ENV = new RegExp(TOKEN_ENV_REGEX)

const LIMIT_FIELDS = ['maxAttempts', 'maxAgeSeconds', 'timeoutMs']
const CREDENTIAL_FIELDS = ['tokenFile', 'tokenEnv']
const FIELDS: Record<TriggerSinkType, ReadonlySet<string>> = {
  'github-dispatch': new Set(['type', 'apiUrl', 'owner', 'repo', ...CREDENTIAL_FIELDS, ...LIMIT_FIELDS]),
  'gitlab-pipeline': new Set(['type', 'gitlabUrl', 'project', 'ref', ...CREDENTIAL_FIELDS, ...LIMIT_FIELDS]),
  'jenkins-build': new Set(['type', 'jenkinsUrl', 'job', 'user', ...CREDENTIAL_FIELDS, ...LIMIT_FIELDS])
}
const REQUIRED: Record<TriggerSinkType, readonly string[]> = {
  'github-dispatch': ['owner', 'repo'],
  'gitlab-pipeline': ['project', 'ref'],
  'jenkins-build': ['jenkinsUrl', 'job', 'user']
}

const SINK_DESCRIPTION = 'store (default): keep matching events in the store; webhook: also POST them as CloudEvents; ' +
  'github-dispatch, gitlab-pipeline, jenkins-build: start a GitHub workflow, a GitLab pipeline or a Jenkins job (README "Triggering tools")'

/** A credential reference: exactly one of tokenFile and tokenEnv (oneOf of `required` only, so Ajv strips nothing). */
const ONE_CREDENTIAL = {
  oneOf: [
    { properties: { tokenFile: true }, required: ['tokenFile'] },
    { properties: { tokenEnv: true }, required: ['tokenEnv'] }
  ]
}

function only (type: string, fields: Iterable<string>, required: readonly string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    if: { properties: { type: { const: type } } },
    // `properties: {x: true}` names the required fields here too, as Ajv's strictRequired wants
    then: { properties: Object.fromEntries(required.map(field => [field, true])), propertyNames: { enum: [...fields] }, required: [...required], ...extra }
  }
}

/**
 * JSON Schema of `sink` (every sink type): shape and ranges only. validateSubscriptionInput also
 * parses URLs and checks header names, and delivery checks credentials when it runs. No `default`:
 * Ajv's useDefaults would write fields into sinks of other types. Per-type fields are restricted
 * with if/then + propertyNames rather than oneOf, which Fastify's removeAdditional would strip.
 */
export const sinkSchema = {
  type: 'object',
  required: ['type'],
  additionalProperties: false,
  properties: {
    type: { enum: ['store', 'webhook', ...TRIGGER_SINK_TYPES] },
    ...webhookSinkSchemaProperties,
    ...deliveryLimitsSchemaProperties,
    apiUrl: { type: 'string', maxLength: MAX_WEBHOOK_URL_LENGTH, pattern: '^[Hh][Tt][Tt][Pp][Ss]?://', description: `github-dispatch: default ${DEFAULT_GITHUB_API_URL}; GitHub Enterprise Server: https://HOST/api/v3` },
    owner: { type: 'string', pattern: GITHUB_OWNER_REGEX, description: 'github-dispatch: repository owner' },
    repo: { type: 'string', pattern: GITHUB_REPO_REGEX, description: 'github-dispatch: repository name' },
    gitlabUrl: { type: 'string', maxLength: MAX_WEBHOOK_URL_LENGTH, pattern: '^[Hh][Tt][Tt][Pp][Ss]?://', description: `gitlab-pipeline: default ${DEFAULT_GITLAB_URL}` },
    project: {
      anyOf: [{ type: 'string', maxLength: MAX_GITLAB_PROJECT_LENGTH, pattern: GITLAB_PROJECT_REGEX }, { type: 'integer', minimum: 1 }],
      description: 'gitlab-pipeline: numeric project id or group/project path'
    },
    ref: { type: 'string', pattern: GIT_REF_REGEX, description: 'gitlab-pipeline: branch or tag to run the pipeline for' },
    jenkinsUrl: { type: 'string', maxLength: MAX_WEBHOOK_URL_LENGTH, pattern: '^[Hh][Tt][Tt][Pp][Ss]?://', description: 'jenkins-build: the Jenkins root URL' },
    job: { type: 'string', minLength: 1, maxLength: MAX_JENKINS_JOB_LENGTH, description: 'jenkins-build: full job name, folders separated by /' },
    user: { type: 'string', pattern: JENKINS_USER_REGEX, description: 'jenkins-build: the user whose API token is used' },
    tokenFile: { type: 'string', minLength: 1, maxLength: MAX_TOKEN_FILE_LENGTH, description: 'trigger sinks: absolute path of a file (mode 0600) holding the token' },
    tokenEnv: { type: 'string', pattern: TOKEN_ENV_REGEX, description: 'trigger sinks: environment variable holding the token' }
  },
  allOf: [
    only('store', ['type'], []),
    only('webhook', WEBHOOK_SINK_FIELDS, ['url']),
    only('github-dispatch', FIELDS['github-dispatch'], REQUIRED['github-dispatch'], ONE_CREDENTIAL),
    only('gitlab-pipeline', FIELDS['gitlab-pipeline'], REQUIRED['gitlab-pipeline'], ONE_CREDENTIAL),
    only('jenkins-build', FIELDS['jenkins-build'], REQUIRED['jenkins-build'], ONE_CREDENTIAL)
  ],
  description: SINK_DESCRIPTION
} as const

/** A trigger sink that passed validateTriggerSink: URLs canonical, every limit filled in. */
export type CheckedTriggerSink =
  | Required<Pick<GithubDispatchSink, 'apiUrl' | 'maxAttempts' | 'maxAgeSeconds' | 'timeoutMs'>> & GithubDispatchSink
  | Required<Pick<GitlabPipelineSink, 'gitlabUrl' | 'maxAttempts' | 'maxAgeSeconds' | 'timeoutMs'>> & GitlabPipelineSink
  | Required<Pick<JenkinsBuildSink, 'maxAttempts' | 'maxAgeSeconds' | 'timeoutMs'>> & JenkinsBuildSink

export function isTriggerSinkType (value: unknown): value is TriggerSinkType {
  return typeof value === 'string' && (TRIGGER_SINK_TYPES as readonly string[]).includes(value)
}

function fail (field: string, message: string): never {
  throw new InvalidSubscriptionError(field, message)
}

function matching (value: unknown, field: string, pattern: RegExp, what: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) fail(field, `${field} must be ${what}, got ${describeValue(value)}`)
  return value
}

/** A base URL we append API paths to: no query or fragment, no trailing slash. */
function baseUrl (value: unknown, field: string): string {
  const url = validateHttpUrl(value, field, 'use tokenFile or tokenEnv')
  if (url.search !== '' || url.hash !== '') fail(field, `${field} must not have a query or fragment`)
  return url.href.replace(/\/+$/, '')
}

function validateCredential (value: Record<string, unknown>): CredentialRef {
  const hasFile = value.tokenFile !== undefined
  const hasEnv = value.tokenEnv !== undefined
  if (hasFile === hasEnv) {
    fail(hasFile ? 'sink.tokenEnv' : 'sink.tokenFile', 'give exactly one of sink.tokenFile (a file holding the token) and sink.tokenEnv (an environment variable holding it); the token itself is never part of a subscription')
  }
  if (hasFile) {
    const file = value.tokenFile
    if (typeof file !== 'string' || file.length === 0 || file.length > MAX_TOKEN_FILE_LENGTH || file.includes('\0') || !isAbsolute(file)) {
      fail('sink.tokenFile', `sink.tokenFile must be an absolute path of at most ${MAX_TOKEN_FILE_LENGTH} characters, got ${describeValue(file)}`)
    }
    return { tokenFile: file }
  }
  return { tokenEnv: matching(value.tokenEnv, 'sink.tokenEnv', TOKEN_ENV, 'an environment variable name (letters, digits, _; not starting with a digit)') }
}

function validateProject (value: unknown): string {
  const project = typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? String(value) : value
  // a path segment of dots would walk up the API path once URL-encoded segments are decoded by a proxy
  if (typeof project !== 'string' || project.length > MAX_GITLAB_PROJECT_LENGTH || !PROJECT.test(project) || project.split('/').some(s => /^\.+$/.test(s))) {
    fail('sink.project', `sink.project must be a numeric project id or a group/project path, got ${describeValue(value)}`)
  }
  return project
}

function validateJob (value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_JENKINS_JOB_LENGTH) {
    fail('sink.job', `sink.job must be a job's full name of at most ${MAX_JENKINS_JOB_LENGTH} characters, got ${describeValue(value)}`)
  }
  const segments = value.split('/')
  if (segments.length > MAX_JENKINS_JOB_DEPTH) fail('sink.job', `sink.job may nest at most ${MAX_JENKINS_JOB_DEPTH} folders deep`)
  for (const segment of segments) {
    if (!JENKINS_SEGMENT.test(segment) || segment === '.' || segment === '..' || segment.trim() !== segment) {
      fail('sink.job', `sink.job ${describeValue(value)}: ${describeValue(segment)} is not a Jenkins item name (folders are separated by a single /)`)
    }
  }
  return value
}

/**
 * Validate a trigger sink and fill in its defaults (apiUrl, gitlabUrl, maxAttempts, maxAgeSeconds,
 * timeoutMs). Throws InvalidSubscriptionError naming the field (`sink.owner`, `sink.tokenFile`).
 */
export function validateTriggerSink (value: unknown): CheckedTriggerSink {
  if (!isPlainObject(value)) fail('sink', `sink must be an object, got ${describeValue(value)}`)
  const type = value.type
  if (!isTriggerSinkType(type)) return fail('sink.type', `sink.type must be one of ${TRIGGER_SINK_TYPES.join(', ')}, got ${describeValue(type)}`)
  for (const key of Object.keys(value)) {
    if (!FIELDS[type].has(key)) fail(`sink.${key}`, `unknown field sink.${key} for a ${type} sink`)
  }
  for (const key of REQUIRED[type]) {
    if (value[key] === undefined) fail(`sink.${key}`, `a ${type} sink needs sink.${key}`)
  }
  const limits = validateDeliveryLimits(value)
  const credential = validateCredential(value)
  switch (type) {
    case 'github-dispatch': {
      const repo = matching(value.repo, 'sink.repo', REPO, 'a GitHub repository name')
      if (repo === '.' || repo === '..') fail('sink.repo', `sink.repo must be a GitHub repository name, got ${describeValue(repo)}`)
      return {
        type,
        apiUrl: baseUrl(value.apiUrl ?? DEFAULT_GITHUB_API_URL, 'sink.apiUrl'),
        owner: matching(value.owner, 'sink.owner', OWNER, 'a GitHub user or organisation name'),
        repo,
        ...credential,
        ...limits
      }
    }
    case 'gitlab-pipeline':
      return {
        type,
        gitlabUrl: baseUrl(value.gitlabUrl ?? DEFAULT_GITLAB_URL, 'sink.gitlabUrl'),
        project: validateProject(value.project),
        ref: matching(value.ref, 'sink.ref', GIT_REF, 'a branch or tag name'),
        ...credential,
        ...limits
      }
    case 'jenkins-build':
      return {
        type,
        jenkinsUrl: baseUrl(value.jenkinsUrl, 'sink.jenkinsUrl'),
        job: validateJob(value.job),
        user: matching(value.user, 'sink.user', JENKINS_USER, 'a Jenkins user id (no `:`)'),
        ...credential,
        ...limits
      }
  }
}
