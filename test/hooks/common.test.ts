import { createHash, createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  cdevent, constantTimeEqual, contentHash, eventId, header, hmacHex, jsonBody, matchesHmac, matchesSecret
} from '../../src/hooks/common.js'
import { thrown } from '../helpers/errors.js'
import { bytes, delivery, expectValidEvent } from './forge-helpers.js'

/** The pieces every source kind shares (src/hooks/common.ts). */

const SECRETS = { current: 'current-secret', previous: 'previous-secret' }

describe('hooks common', () => {
  it('compares strings of any lengths without throwing, equal only when equal', () => {
    expect(constantTimeEqual('secret', 'secret')).toBe(true)
    expect(constantTimeEqual('secret', 'Secret')).toBe(false)
    // timingSafeEqual throws on unequal lengths; hashing first must prevent that
    expect(constantTimeEqual('s', 'a much longer secret than the presented one')).toBe(false)
    expect(constantTimeEqual('', 'secret')).toBe(false)
    expect(constantTimeEqual('é', 'é')).toBe(true)
  })

  it('accepts the current or the previous secret, never a missing or empty one', () => {
    expect(matchesSecret('current-secret', SECRETS)).toBe(true)
    expect(matchesSecret('previous-secret', SECRETS)).toBe(true)
    expect(matchesSecret('previous-secret', { current: 'current-secret' })).toBe(false)
    expect(matchesSecret('other', SECRETS)).toBe(false)
    expect(matchesSecret(undefined, SECRETS)).toBe(false)
    expect(matchesSecret('', SECRETS)).toBe(false)
    // an empty configured previous secret does not let an empty credential in
    expect(matchesSecret('', { current: 'x', previous: '' })).toBe(false)
  })

  it('checks HMACs of the raw body under the current or the previous secret', () => {
    const body = bytes('{"zen":"Keep it logically awesome."}')
    const sha256 = createHmac('sha256', 'previous-secret').update(body).digest('hex')
    expect(hmacHex('sha256', 'previous-secret', body)).toBe(sha256)
    expect(matchesHmac('sha256', sha256, SECRETS, body)).toBe(true)
    expect(matchesHmac('sha256', sha256.toUpperCase(), SECRETS, body)).toBe(true)
    expect(matchesHmac('sha256', sha256, { current: 'current-secret' }, body)).toBe(false)
    expect(matchesHmac('sha256', sha256, SECRETS, bytes('{"zen":"tampered"}'))).toBe(false)
    expect(matchesHmac('sha256', undefined, SECRETS, body)).toBe(false)
    expect(matchesHmac('sha256', '', SECRETS, body)).toBe(false)

    const sha1 = createHmac('sha1', 'current-secret').update(body).digest('hex')
    expect(matchesHmac('sha1', sha1, SECRETS, body)).toBe(true)
    expect(matchesHmac('sha256', sha1, SECRETS, body)).toBe(false)
  })

  it('parses the body as JSON, and refuses one that is not with InvalidRequestError', () => {
    expect(jsonBody(delivery({}, bytes('{"a":[1,2]}')))).toEqual({ a: [1, 2] })
    const err = thrown(() => jsonBody(delivery({}, bytes('{"a":'))))
    expect(err.code).toBe('CDG_INVALID_REQUEST')
    expect(err.message).toContain('not JSON')
  })

  it('hashes the body deterministically, and numbers the events of one delivery', () => {
    const body = bytes('{"a":1}')
    expect(contentHash(delivery({}, body))).toBe(createHash('sha256').update(body).digest('hex'))
    expect(contentHash(delivery({ 'x-other': 'header' }, body))).toBe(contentHash(delivery({}, Buffer.from(body))))
    expect(contentHash(delivery({}, bytes('{"a":2}')))).not.toBe(contentHash(delivery({}, body)))
    expect(eventId('delivery-1')).toBe('delivery-1')
    expect(eventId('delivery-1', 0, 1)).toBe('delivery-1')
    expect(eventId('delivery-1', 0, 3)).toBe('delivery-1-0')
    expect(eventId('delivery-1', 2, 3)).toBe('delivery-1-2')
  })

  it('reads headers by lower-case name, an empty value as absent', () => {
    const d = delivery({ 'X-GitHub-Event': 'push', 'X-Empty': '' }, bytes('{}'))
    expect(header(d, 'X-GitHub-Event')).toBe('push')
    expect(header(d, 'x-github-event')).toBe('push')
    expect(header(d, 'x-empty')).toBeUndefined()
    expect(header(d, 'x-missing')).toBeUndefined()
  })

  it('builds schema-valid CDEvent envelopes of the current type of a class', () => {
    const minimal = cdevent({
      eventClass: 'change.merged',
      id: 'delivery-1',
      source: 'https://github.com/octo-org/octo-repo',
      timestamp: '2024-06-03T12:00:00.000Z',
      subjectId: 'octo-org/octo-repo/pull/7',
      content: { repository: { id: 'octo-org/octo-repo' } }
    })
    expectValidEvent(minimal)
    expect(minimal).toEqual({
      context: {
        specversion: '0.5.1',
        id: 'delivery-1',
        source: 'https://github.com/octo-org/octo-repo',
        type: 'dev.cdevents.change.merged.0.3.0',
        timestamp: '2024-06-03T12:00:00.000Z'
      },
      subject: { id: 'octo-org/octo-repo/pull/7', content: { repository: { id: 'octo-org/octo-repo' } } }
    })

    const full = cdevent({
      eventClass: 'pipelinerun.finished',
      id: 'delivery-2-1',
      source: 'https://gitlab.example.com/group/project',
      timestamp: '2024-06-03T12:00:00Z',
      subjectId: 'group/project/-/pipelines/31',
      subjectSource: 'https://gitlab.example.com/group/project',
      content: { pipelineName: 'build', uri: 'https://gitlab.example.com/group/project/-/pipelines/31', outcome: 'success' },
      chainId: 'chain-1',
      customData: { ref: 'main' }
    })
    expectValidEvent(full)
    expect(full.context.chainId).toBe('chain-1')
    expect(full.subject.source).toBe('https://gitlab.example.com/group/project')
    expect(full.customData).toEqual({ ref: 'main' })
    expect(full.customDataContentType).toBe('application/json')

    expect(() => cdevent({ ...full.context, eventClass: 'nothing.happened', subjectId: 'x', content: {} })).toThrow('not a standard event class')
  })
})
