import { BEARER_SECURITY, COMMON_ERROR_STATUSES, errorResponses } from '../schemas.js'
import { MAX_BATCH_ITEMS } from '../cloudevents-http.js'

export const IMPORT_RECORDS_SCHEMA = {
  tags: ['events'],
  summary: 'Import signed records (cdgossip export output); each is verified like a gossiped record',
  security: BEARER_SECURITY,
  body: {
    type: 'array',
    maxItems: MAX_BATCH_ITEMS,
    items: { type: 'object', description: 'a signed cdgossip record: CloudEvents JSON with dssematerial, sequence and data_base64' }
  },
  response: {
    200: {
      type: 'object',
      required: ['stored', 'duplicates', 'refused'],
      properties: {
        stored: { type: 'integer' },
        duplicates: { type: 'integer' },
        refused: {
          type: 'array',
          items: {
            type: 'object',
            required: ['index', 'code', 'message'],
            properties: { index: { type: 'integer' }, code: { type: 'string' }, message: { type: 'string' } }
          }
        }
      }
    },
    ...errorResponses(...COMMON_ERROR_STATUSES)
  }
} as const
