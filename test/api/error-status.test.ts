import { describe, it, expect } from 'vitest'
import { ERROR_DOCS, ERROR_STATUS, INTERNAL_ERROR_CODE, type ApiErrorCode } from '../../src/api/index.js'
import { ERROR_CODES } from '../../src/errors.js'

const API_CODES: ApiErrorCode[] = [...ERROR_CODES, INTERNAL_ERROR_CODE]

describe('error status table', () => {
  it('maps every error code, and nothing else, to an HTTP error status', () => {
    expect(Object.keys(ERROR_STATUS).sort()).toEqual([...API_CODES].sort())
    for (const code of API_CODES) {
      const status = ERROR_STATUS[code]
      expect(Number.isInteger(status), code).toBe(true)
      expect(status, code).toBeGreaterThanOrEqual(400)
      expect(status, code).toBeLessThan(600)
    }
  })

  it('documents every code in one line, for the README table', () => {
    expect(Object.keys(ERROR_DOCS).sort()).toEqual([...API_CODES].sort())
    for (const code of API_CODES) {
      const doc = ERROR_DOCS[code]
      expect(doc.length, code).toBeGreaterThan(10)
      expect(doc, code).not.toContain('\n')
      expect(doc, code).not.toContain('|')
    }
  })

  it('keeps the statuses the API promises', () => {
    expect(ERROR_STATUS).toMatchObject({
      CDG_INVALID_EVENT: 400,
      CDG_UNSUPPORTED_SPEC_VERSION: 400,
      CDG_INVALID_CLOUDEVENT: 422,
      CDG_INVALID_REQUEST: 400,
      CDG_CONFLICTING_EVENT: 409,
      CDG_EVENT_TOO_LARGE: 413,
      CDG_UNSUPPORTED_MEDIA_TYPE: 415,
      CDG_UNAUTHORIZED: 401,
      CDG_UNTRUSTED_SIGNER: 403,
      CDG_NOT_FOUND: 404,
      CDG_NOT_STARTED: 503,
      CDG_TIMEOUT: 504,
      CDG_STORE: 500,
      CDG_INTERNAL: 500
    })
  })
})
