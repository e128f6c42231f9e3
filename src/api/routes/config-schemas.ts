import { BEARER_SECURITY, COMMON_ERROR_STATUSES, errorResponses } from '../schemas.js'
import { SUBSCRIPTION } from './subscriptions-schemas.js'
import { TRUST_ENTRY } from './trust-schemas.js'

/**
 * A configuration section: its documented keys, open to keys added later (a new setting shows
 * up here without a schema change; the configuration holds no token or key to leak).
 */
const section = (properties: Record<string, unknown>): Record<string, unknown> => ({ type: 'object', additionalProperties: true, properties })
const STRINGS = { type: 'array', items: { type: 'string' } }

const EFFECTIVE_CONFIG = {
  type: 'object',
  additionalProperties: true,
  required: ['dataDir', 'network', 'api', 'p2p', 'sync', 'trust', 'subscriptions', 'log'],
  description: 'defaults < config file < CDGOSSIP_* environment < command-line flags, as the node loaded them at start; webhook header values and URL query values are hidden',
  properties: {
    dataDir: { type: 'string' },
    network: { type: 'string' },
    api: section({ host: { type: 'string' }, port: { type: 'integer' }, bodyLimit: { type: 'integer' } }),
    p2p: section({ listen: STRINGS, bootstrap: STRINGS, mdns: { type: 'boolean' }, relay: STRINGS, heartbeatMs: { type: 'integer' } }),
    sync: section({ intervalSeconds: { type: 'integer' } }),
    trust: section({
      mode: { type: 'string', enum: ['allowlist', 'open'] },
      communities: { type: 'array', items: { type: 'object', additionalProperties: true }, description: 'as written in the config file' }
    }),
    subscriptions: { type: 'array', items: { type: 'object', additionalProperties: true }, description: 'as written in the config file' },
    hooks: section({ listen: { type: 'string' }, bodyLimit: { type: 'integer' } }),
    sources: { type: 'array', items: { type: 'object', additionalProperties: true }, description: 'as written in the config file: secret file paths and variable names, never secrets' },
    log: section({ level: { type: 'string' }, pretty: { type: 'boolean' } })
  }
}

export const GET_CONFIG_SCHEMA = {
  tags: ['node'],
  summary: 'The configuration this node runs with, and its live trust entries and subscriptions',
  security: BEARER_SECURITY,
  response: {
    200: {
      type: 'object',
      required: ['config', 'trust', 'subscriptions'],
      properties: {
        config: EFFECTIVE_CONFIG,
        trust: {
          type: 'object',
          required: ['mode', 'entries'],
          description: 'the live trust policy: the config file\'s entries and those added over the API',
          properties: { mode: { type: 'string', enum: ['allowlist', 'open'] }, entries: { type: 'array', items: TRUST_ENTRY } }
        },
        subscriptions: { type: 'array', items: SUBSCRIPTION, description: 'every live subscription (origin config or api), webhook header values hidden' }
      }
    },
    ...errorResponses(...COMMON_ERROR_STATUSES)
  }
}
