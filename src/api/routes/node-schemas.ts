import { BEARER_SECURITY, COMMON_ERROR_STATUSES, errorResponses } from '../schemas.js'

/** Open to additions: the node may report more than this (store size, sync state details). */
const NODE_INFO = {
  type: 'object',
  additionalProperties: true,
  required: ['peerId', 'network', 'version', 'listenAddresses', 'topics', 'peers', 'counters', 'trustMode', 'store'],
  properties: {
    peerId: { type: 'string', description: 'this community\'s peer ID: the keyid of everything it signs' },
    network: { type: 'string' },
    version: { type: 'string' },
    apiUrl: { type: 'string' },
    listenAddresses: { type: 'array', items: { type: 'string' } },
    topics: { type: 'array', items: { type: 'string' } },
    peers: { type: 'integer', minimum: 0 },
    counters: { type: 'object', additionalProperties: { type: 'number' }, description: 'gossip and sync outcome counters' },
    trustMode: { type: 'string', enum: ['allowlist', 'open'] },
    store: {
      type: 'object',
      additionalProperties: true,
      required: ['events'],
      properties: { events: { type: 'integer', minimum: 0 } }
    },
    sync: { description: 'sync state, shape owned by the node' }
  }
}

export const GET_NODE_SCHEMA = {
  tags: ['node'],
  summary: 'This node: identity, network, topics, counters',
  security: BEARER_SECURITY,
  response: { 200: NODE_INFO, ...errorResponses(...COMMON_ERROR_STATUSES) }
}
