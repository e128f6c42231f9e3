import { MAX_PEER_ID_LENGTH, trustEntryInputSchema } from '../../trust/index.js'
import { BEARER_SECURITY, COMMON_ERROR_STATUSES, NAME_PATTERN, errorResponses } from '../schemas.js'

export const TRUST_ENTRY = {
  type: 'object',
  required: ['name', 'sources', 'classes'],
  properties: {
    peerId: { type: 'string', description: 'the one node trusted (absent for a community entry)' },
    community: { type: 'string', description: 'the community root key whose manifest lists the nodes trusted (absent for a peer-ID entry)' },
    name: { type: 'string' },
    sources: { type: 'array', items: { type: 'string' } },
    classes: { type: 'array', items: { type: 'string' } }
  }
}

export interface TrustBody {
  peerId?: string
  community?: string
  name: string
  sources: string[]
  classes?: string[]
}

export interface PeerIdOrNameParams {
  peerIdOrName: string
}

export const GET_TRUST_SCHEMA = {
  tags: ['trust'],
  summary: 'The trust policy: mode and allow-listed communities',
  security: BEARER_SECURITY,
  response: {
    200: {
      type: 'object',
      required: ['mode', 'entries'],
      properties: {
        mode: { type: 'string', enum: ['allowlist', 'open'] },
        entries: { type: 'array', items: TRUST_ENTRY }
      }
    },
    ...errorResponses(...COMMON_ERROR_STATUSES)
  }
}

export const POST_TRUST_SCHEMA = {
  tags: ['trust'],
  summary: 'Trust a community (one peer ID, or a community root key) for some sources and classes',
  security: BEARER_SECURITY,
  // trust/'s schema: the shape the node's own validation (Ed25519 check, normalisation) expects
  body: trustEntryInputSchema,
  response: { 201: TRUST_ENTRY, ...errorResponses(...COMMON_ERROR_STATUSES) }
}

export const DELETE_TRUST_SCHEMA = {
  tags: ['trust'],
  summary: 'Stop trusting a community, by peer ID, community root key or name',
  security: BEARER_SECURITY,
  params: {
    type: 'object',
    required: ['peerIdOrName'],
    properties: { peerIdOrName: { type: 'string', minLength: 1, maxLength: MAX_PEER_ID_LENGTH, pattern: NAME_PATTERN } }
  },
  response: {
    204: { type: 'null', description: 'removed' },
    ...errorResponses(...COMMON_ERROR_STATUSES, 404)
  }
}
