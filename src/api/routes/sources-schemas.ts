import { MAX_SECRET_REF_LENGTH, SOURCE_KIND_NAMES, SOURCE_NAME_REGEX } from '../../hooks/index.js'
import { BEARER_SECURITY, COMMON_ERROR_STATUSES, errorResponses } from '../schemas.js'

/**
 * Largest payload `POST /v1/sources/{name}/test` takes, as text: the hooks listener's default
 * body limit, so whatever the listener would accept can be tried.
 */
export const MAX_TEST_BODY_LENGTH = 1024 * 1024
/** Headers one test may give: a webhook carries a dozen or two. */
export const MAX_TEST_HEADERS = 64

export interface SourceBody {
  name: string
  kind: string
  secretFile?: string
  secretEnv?: string
  previousSecretFile?: string
  previousSecretEnv?: string
  settings?: Record<string, unknown>
}

export interface SourceNameParams {
  name: string
}

export interface SourceTestBody {
  body: string
  headers?: Record<string, string>
}

const secretRef = (description: string): Record<string, unknown> => ({ type: 'string', minLength: 1, maxLength: MAX_SECRET_REF_LENGTH, description })

const SOURCE_FIELDS = {
  name: { type: 'string', pattern: SOURCE_NAME_REGEX, description: 'the webhook URL is /hooks/<name> on the hooks listener' },
  kind: { type: 'string', enum: [...SOURCE_KIND_NAMES] },
  secretFile: secretRef('absolute path of a file (mode 0600) holding the secret, read by the node'),
  secretEnv: secretRef('environment variable of the node holding the secret'),
  previousSecretFile: secretRef('the secret being rotated out, also accepted'),
  previousSecretEnv: secretRef('the secret being rotated out, also accepted'),
  settings: { type: 'object', additionalProperties: true, description: 'the kind\'s own settings (README, Tools in)' }
}

const COUNTS = {
  type: 'object',
  required: ['received', 'published', 'ignored', 'refused', 'failed', 'limited'],
  description: 'deliveries since the node started; received is the sum of the others',
  properties: Object.fromEntries(['received', 'published', 'ignored', 'refused', 'failed', 'limited'].map(k => [k, { type: 'integer', minimum: 0 }]))
}

/** A source as the API shows it: where its secret is read from, never the secret. */
export const SOURCE = {
  type: 'object',
  required: ['name', 'kind', 'origin', 'createdAt', 'status', 'counts'],
  properties: {
    ...SOURCE_FIELDS,
    origin: { type: 'string', enum: ['config', 'api'], description: 'config file sources cannot be removed over the API' },
    createdAt: { type: 'string' },
    status: { type: 'string', enum: ['active', 'unavailable'] },
    problem: { type: 'string', description: 'why an unavailable source is (its secret could not be read at start)' },
    counts: COUNTS
  }
}

export const LIST_SOURCES_SCHEMA = {
  tags: ['sources'],
  summary: 'Tool webhook sources (config file and API), with their delivery counts',
  security: BEARER_SECURITY,
  response: { 200: { type: 'array', items: SOURCE }, ...errorResponses(...COMMON_ERROR_STATUSES) }
}

export const POST_SOURCE_SCHEMA = {
  tags: ['sources'],
  summary: 'Add a tool webhook source; the hooks listener starts with the first one',
  security: BEARER_SECURITY,
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'kind'],
    properties: SOURCE_FIELDS
  },
  response: { 201: SOURCE, ...errorResponses(...COMMON_ERROR_STATUSES) }
}

const NAME_PARAMS = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', pattern: SOURCE_NAME_REGEX } }
}

export const DELETE_SOURCE_SCHEMA = {
  tags: ['sources'],
  summary: 'Remove a source added over the API; the hooks listener stops with the last one',
  security: BEARER_SECURITY,
  params: NAME_PARAMS,
  response: { 204: { type: 'null', description: 'removed' }, ...errorResponses(...COMMON_ERROR_STATUSES, 404) }
}

export const TEST_SOURCE_SCHEMA = {
  tags: ['sources'],
  summary: 'The CDEvents a payload would become with this source\'s settings (no credential check, nothing published)',
  security: BEARER_SECURITY,
  params: NAME_PARAMS,
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['body'],
    properties: {
      body: { type: 'string', maxLength: MAX_TEST_BODY_LENGTH, description: 'the webhook body as the tool sends it' },
      headers: { type: 'object', maxProperties: MAX_TEST_HEADERS, additionalProperties: { type: 'string', maxLength: 8192 }, description: 'e.g. X-GitHub-Event: pull_request' }
    }
  },
  response: {
    200: {
      type: 'object',
      description: '`events` (schema-valid CDEvents v0.5.1, unsigned) or `ignored` (why none)',
      properties: {
        events: { type: 'array', items: { type: 'object', additionalProperties: true } },
        ignored: { type: 'string' }
      }
    },
    ...errorResponses(...COMMON_ERROR_STATUSES, 404)
  }
}
