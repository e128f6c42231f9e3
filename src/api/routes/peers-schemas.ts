import { BEARER_SECURITY, COMMON_ERROR_STATUSES, errorResponses } from '../schemas.js'

const PEER_INFO = {
  type: 'object',
  required: ['peerId', 'addresses', 'topics'],
  properties: {
    peerId: { type: 'string' },
    name: { type: 'string', description: 'trust name, when the peer is a listed community' },
    addresses: { type: 'array', items: { type: 'string' } },
    topics: { type: 'array', items: { type: 'string' }, description: 'topics the peer announced that this node also joined' }
  }
}

export const GET_PEERS_SCHEMA = {
  tags: ['peers'],
  summary: 'Connected peers',
  security: BEARER_SECURITY,
  response: {
    200: { type: 'array', items: PEER_INFO },
    ...errorResponses(...COMMON_ERROR_STATUSES)
  }
}
