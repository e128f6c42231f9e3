import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Ajv } from 'ajv'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  DEFAULT_MAX_AGE_SECONDS,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_TIMEOUT_MS,
  InvalidSubscriptionError,
  MAX_FILTER_ORIGINS,
  MAX_SUBSCRIPTION_CLASSES,
  MAX_WEBHOOK_HEADERS,
  subscriptionInputSchema,
  validateStoredSubscription,
  validateSubscriptionInput
} from '../../src/subscriptions/index.js'
import { thrown } from '../helpers/errors.js'

let peerId: string
let peerIdAsCid: string

beforeAll(async () => {
  const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  peerId = id.toString()
  peerIdAsCid = id.toCID().toString()
})

const webhook = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ type: 'webhook', url: 'https://hooks.example.org/cd', ...extra })

describe('validateSubscriptionInput defaults and normalisation', () => {
  it('fills every default', () => {
    expect(validateSubscriptionInput({ classes: ['artifact.*'] })).toEqual({
      classes: ['artifact.*'],
      filter: {},
      includeUntrusted: false,
      start: { kind: 'now' },
      sink: { type: 'store' }
    })
  })

  it('fills webhook defaults', () => {
    expect(validateSubscriptionInput({ classes: ['*'], sink: webhook() }).sink).toEqual({
      type: 'webhook',
      url: 'https://hooks.example.org/cd',
      mode: 'binary',
      maxAttempts: DEFAULT_MAX_ATTEMPTS,
      maxAgeSeconds: DEFAULT_MAX_AGE_SECONDS,
      timeoutMs: DEFAULT_TIMEOUT_MS
    })
  })

  it('keeps every given field', () => {
    const input = {
      id: 'onap-failures',
      classes: ['pipelinerun.finished', 'x.mytool-resource.created'],
      filter: { origins: ['onap', peerId], sourcePrefix: 'https://jenkins.onap.org', subject: 'job-42', outcome: 'failure' },
      includeUntrusted: true,
      start: { kind: 'time', time: '2025-01-31T12:00:00.5+01:00' },
      sink: webhook({ mode: 'structured', headers: { Authorization: 'Bearer abc', 'X-Team': 'ci' }, maxAttempts: 1, maxAgeSeconds: 60, timeoutMs: 100 })
    }
    expect(validateSubscriptionInput(input)).toEqual(input)
  })

  it('drops duplicate classes and origins and canonicalises peer IDs and URLs', () => {
    const out = validateSubscriptionInput({
      classes: ['build.*', 'build.*'],
      filter: { origins: [peerIdAsCid, peerId, 'onap', 'onap'] },
      sink: webhook({ url: 'HTTP://Hooks.Example.org' })
    })
    expect(out.classes).toEqual(['build.*'])
    expect(out.filter.origins).toEqual([peerId, 'onap'])
    expect(out.sink).toMatchObject({ url: 'http://hooks.example.org/' })
  })

  it.each([
    [{ kind: 'now' }],
    [{ kind: 'beginning' }],
    [{ kind: 'cursor', cursor: '00000042' }],
    [{ kind: 'time', time: '2025-01-31T12:00:00Z' }]
  ])('accepts start %j', (start) => {
    expect(validateSubscriptionInput({ classes: ['*'], start }).start).toEqual(start)
  })
})

/** [label, input, field named in the error] */
const bad: Array<[string, () => unknown, string]> = [
  ['not an object', () => 'x', 'subscription'],
  ['an unknown field', () => ({ classes: ['*'], name: 'x' }), 'name'],
  ['an id with capitals', () => ({ id: 'Onap', classes: ['*'] }), 'id'],
  ['an id starting with a dash', () => ({ id: '-a', classes: ['*'] }), 'id'],
  ['a 65-character id', () => ({ id: 'a'.repeat(65), classes: ['*'] }), 'id'],
  ['a numeric id', () => ({ id: 42, classes: ['*'] }), 'id'],
  ['missing classes', () => ({}), 'classes'],
  ['empty classes', () => ({ classes: [] }), 'classes'],
  ['classes as a string', () => ({ classes: '*' }), 'classes'],
  ['too many classes', () => ({ classes: Array.from({ length: MAX_SUBSCRIPTION_CLASSES + 1 }, () => '*') }), 'classes'],
  ['a bad class pattern', () => ({ classes: ['artifact.*', 'Artifact'] }), 'classes[1]'],
  ['an unknown standard class', () => ({ classes: ['build.finish'] }), 'classes[0]'],
  ['a versioned type as class', () => ({ classes: ['dev.cdevents.artifact.published.0.2.0'] }), 'classes[0]'],
  ['filter as an array', () => ({ classes: ['*'], filter: [] }), 'filter'],
  ['an unknown filter field', () => ({ classes: ['*'], filter: { type: 'x' } }), 'filter.type'],
  ['empty origins', () => ({ classes: ['*'], filter: { origins: [] } }), 'filter.origins'],
  ['too many origins', () => ({ classes: ['*'], filter: { origins: Array.from({ length: MAX_FILTER_ORIGINS + 1 }, (_, i) => `n${i}`) } }), 'filter.origins'],
  ['an origin with a space', () => ({ classes: ['*'], filter: { origins: ['on ap'] } }), 'filter.origins[0]'],
  ['a non-string origin', () => ({ classes: ['*'], filter: { origins: ['a', 1] } }), 'filter.origins[1]'],
  ['an empty sourcePrefix', () => ({ classes: ['*'], filter: { sourcePrefix: '' } }), 'filter.sourcePrefix'],
  ['an over-long sourcePrefix', () => ({ classes: ['*'], filter: { sourcePrefix: 'a'.repeat(1025) } }), 'filter.sourcePrefix'],
  ['a non-string subject', () => ({ classes: ['*'], filter: { subject: 42 } }), 'filter.subject'],
  ['an empty subject', () => ({ classes: ['*'], filter: { subject: '' } }), 'filter.subject'],
  ['an over-long outcome', () => ({ classes: ['*'], filter: { outcome: 'f'.repeat(65) } }), 'filter.outcome'],
  ['includeUntrusted as a string', () => ({ classes: ['*'], includeUntrusted: 'yes' }), 'includeUntrusted'],
  ['start as a string', () => ({ classes: ['*'], start: 'now' }), 'start'],
  ['an unknown start kind', () => ({ classes: ['*'], start: { kind: 'latest' } }), 'start.kind'],
  ['a missing start kind', () => ({ classes: ['*'], start: {} }), 'start.kind'],
  ['now with a cursor', () => ({ classes: ['*'], start: { kind: 'now', cursor: 'a' } }), 'start.cursor'],
  ['a cursor start without cursor', () => ({ classes: ['*'], start: { kind: 'cursor' } }), 'start.cursor'],
  ['an empty cursor', () => ({ classes: ['*'], start: { kind: 'cursor', cursor: '' } }), 'start.cursor'],
  ['an over-long cursor', () => ({ classes: ['*'], start: { kind: 'cursor', cursor: 'c'.repeat(257) } }), 'start.cursor'],
  ['a time start without time', () => ({ classes: ['*'], start: { kind: 'time' } }), 'start.time'],
  ['a date without time of day', () => ({ classes: ['*'], start: { kind: 'time', time: '2025-01-31' } }), 'start.time'],
  ['a time without offset', () => ({ classes: ['*'], start: { kind: 'time', time: '2025-01-31T12:00:00' } }), 'start.time'],
  ['a time that is not a date', () => ({ classes: ['*'], start: { kind: 'time', time: 'yesterday' } }), 'start.time'],
  ['a time with an unknown field', () => ({ classes: ['*'], start: { kind: 'time', time: '2025-01-31T12:00:00Z', cursor: 'a' } }), 'start.cursor'],
  ['sink as a string', () => ({ classes: ['*'], sink: 'store' }), 'sink'],
  ['an unknown sink type', () => ({ classes: ['*'], sink: { type: 'sse' } }), 'sink.type'],
  ['a store sink with a url', () => ({ classes: ['*'], sink: { type: 'store', url: 'https://a' } }), 'sink.url'],
  ['an unknown webhook field', () => ({ classes: ['*'], sink: webhook({ secret: 'x' }) }), 'sink.secret'],
  ['a webhook without url', () => ({ classes: ['*'], sink: { type: 'webhook' } }), 'sink.url'],
  ['a webhook url that is not a URL', () => ({ classes: ['*'], sink: webhook({ url: 'https://' }) }), 'sink.url'],
  ['a relative webhook url', () => ({ classes: ['*'], sink: webhook({ url: '/hook' }) }), 'sink.url'],
  ['an ftp webhook url', () => ({ classes: ['*'], sink: webhook({ url: 'ftp://hooks.example.org/' }) }), 'sink.url'],
  ['a webhook url with credentials', () => ({ classes: ['*'], sink: webhook({ url: 'https://user:pw@hooks.example.org/' }) }), 'sink.url'],
  ['an over-long webhook url', () => ({ classes: ['*'], sink: webhook({ url: `https://a.example/${'a'.repeat(2048)}` }) }), 'sink.url'],
  ['an unknown webhook mode', () => ({ classes: ['*'], sink: webhook({ mode: 'batch' }) }), 'sink.mode'],
  ['headers as an array', () => ({ classes: ['*'], sink: webhook({ headers: [] }) }), 'sink.headers'],
  ['too many headers', () => ({ classes: ['*'], sink: webhook({ headers: Object.fromEntries(Array.from({ length: MAX_WEBHOOK_HEADERS + 1 }, (_, i) => [`x-h${i}`, 'v'])) }) }), 'sink.headers'],
  ['a header name with a space', () => ({ classes: ['*'], sink: webhook({ headers: { 'X Team': 'a' } }) }), 'sink.headers.X Team'],
  ['a header name with a colon', () => ({ classes: ['*'], sink: webhook({ headers: { 'x:y': 'a' } }) }), 'sink.headers.x:y'],
  ['a Host header', () => ({ classes: ['*'], sink: webhook({ headers: { Host: 'evil' } }) }), 'sink.headers.Host'],
  ['a Content-Type header', () => ({ classes: ['*'], sink: webhook({ headers: { 'content-type': 'text/plain' } }) }), 'sink.headers.content-type'],
  ['a ce- header', () => ({ classes: ['*'], sink: webhook({ headers: { 'Ce-Source': 'x' } }) }), 'sink.headers.Ce-Source'],
  ['an X-Cdgossip- header (delivery sets its own)', () => ({ classes: ['*'], sink: webhook({ headers: { 'X-Cdgossip-Trace': 'x' } }) }), 'sink.headers.X-Cdgossip-Trace'],
  ['a Content-Encoding header', () => ({ classes: ['*'], sink: webhook({ headers: { 'Content-Encoding': 'gzip' } }) }), 'sink.headers.Content-Encoding'],
  ['a Proxy- header', () => ({ classes: ['*'], sink: webhook({ headers: { 'Proxy-Authorization': 'x' } }) }), 'sink.headers.Proxy-Authorization'],
  ['a Sec- header', () => ({ classes: ['*'], sink: webhook({ headers: { 'Sec-Fetch-Site': 'x' } }) }), 'sink.headers.Sec-Fetch-Site'],
  ['a Forwarded header', () => ({ classes: ['*'], sink: webhook({ headers: { Forwarded: 'for=1.2.3.4' } }) }), 'sink.headers.Forwarded'],
  ['a header given twice', () => ({ classes: ['*'], sink: webhook({ headers: { 'X-A': '1', 'x-a': '2' } }) }), 'sink.headers.x-a'],
  ['a header value with CRLF', () => ({ classes: ['*'], sink: webhook({ headers: { 'X-A': 'a\r\nHost: evil' } }) }), 'sink.headers.X-A'],
  ['a non-string header value', () => ({ classes: ['*'], sink: webhook({ headers: { 'X-A': 1 } }) }), 'sink.headers.X-A'],
  ['an over-long header value', () => ({ classes: ['*'], sink: webhook({ headers: { 'X-A': 'a'.repeat(4097) } }) }), 'sink.headers.X-A'],
  ['maxAttempts 0', () => ({ classes: ['*'], sink: webhook({ maxAttempts: 0 }) }), 'sink.maxAttempts'],
  ['maxAttempts 101', () => ({ classes: ['*'], sink: webhook({ maxAttempts: 101 }) }), 'sink.maxAttempts'],
  ['fractional maxAttempts', () => ({ classes: ['*'], sink: webhook({ maxAttempts: 2.5 }) }), 'sink.maxAttempts'],
  ['maxAttempts as a string', () => ({ classes: ['*'], sink: webhook({ maxAttempts: '3' }) }), 'sink.maxAttempts'],
  ['maxAgeSeconds 0', () => ({ classes: ['*'], sink: webhook({ maxAgeSeconds: 0 }) }), 'sink.maxAgeSeconds'],
  ['maxAgeSeconds over 30 days', () => ({ classes: ['*'], sink: webhook({ maxAgeSeconds: 2_592_001 }) }), 'sink.maxAgeSeconds'],
  ['timeoutMs 99', () => ({ classes: ['*'], sink: webhook({ timeoutMs: 99 }) }), 'sink.timeoutMs'],
  ['timeoutMs 120001', () => ({ classes: ['*'], sink: webhook({ timeoutMs: 120_001 }) }), 'sink.timeoutMs']
]

describe('validateSubscriptionInput refusals', () => {
  it.each(bad)('refuses %s', (_, input, field) => {
    const err = thrown(() => validateSubscriptionInput(input()))
    expect(err).toBeInstanceOf(InvalidSubscriptionError)
    expect(err.code).toBe('CDG_INVALID_REQUEST')
    expect(err.details).toEqual({ field })
  })
})

describe('validateStoredSubscription', () => {
  const stored = (): Record<string, unknown> => ({
    id: 'a', classes: ['*'], filter: {}, includeUntrusted: false, start: { kind: 'now' }, sink: { type: 'store' }, createdAt: '2025-01-01T00:00:00.000Z', origin: 'api'
  })

  it('round-trips a persisted subscription', () => {
    expect(validateStoredSubscription(stored())).toEqual(stored())
  })

  it.each([
    ['id', { id: undefined }],
    ['createdAt', { createdAt: 'then' }],
    ['origin', { origin: 'cli' }],
    ['classes[0]', { classes: ['nope'] }],
    ['sink.url', { sink: { type: 'webhook', mode: 'binary', maxAttempts: 10, maxAgeSeconds: 60, timeoutMs: 1000 } }],
    ['sink.mode', { sink: { type: 'webhook', url: 'https://hooks.example/', mode: 'batch', maxAttempts: 10, maxAgeSeconds: 60, timeoutMs: 1000 } }]
  ])('refuses a bad %s', (field, change) => {
    expect(thrown(() => validateStoredSubscription({ ...stored(), ...change })).details).toEqual({ field })
  })

  it('keeps a webhook sink persisted under looser rules, for delivery to report as invalid', () => {
    const sink = { type: 'webhook', url: 'https://hooks.example/', mode: 'binary', headers: { 'X-Cdgossip-Trace': 't' }, maxAttempts: 10, maxAgeSeconds: 60, timeoutMs: 1000 }
    expect(validateStoredSubscription({ ...stored(), sink })).toEqual({ ...stored(), sink })
    expect(() => validateSubscriptionInput({ classes: ['*'], sink })).toThrow(InvalidSubscriptionError)
  })
})

describe('subscriptionInputSchema', () => {
  const validators = [
    ['draft-07', new Ajv({ strict: true, allErrors: true }).compile(subscriptionInputSchema)],
    ['draft 2020-12', new Ajv2020({ strict: true, allErrors: true }).compile(subscriptionInputSchema)]
  ] as const

  const good = (): unknown[] => [
    { classes: ['*'] },
    { id: 'a-1', classes: ['artifact.*', 'x.mytool-resource.created'], includeUntrusted: true, start: { kind: 'beginning' }, sink: { type: 'store' } },
    { classes: ['*'], filter: { origins: ['onap', peerId], sourcePrefix: 'urn:a', subject: 's', outcome: 'failure' }, start: { kind: 'cursor', cursor: 'c1' } },
    { classes: ['*'], start: { kind: 'time', time: '2025-01-31T12:00:00Z' }, sink: webhook({ mode: 'structured', headers: { Authorization: 'Bearer t' }, maxAttempts: 100, maxAgeSeconds: 1, timeoutMs: 120_000 }) }
  ]

  it.each(validators)('accepts what validateSubscriptionInput accepts (%s)', (_, validate) => {
    for (const input of good()) {
      expect(validate(input), JSON.stringify(validate.errors)).toBe(true)
      expect(() => validateSubscriptionInput(input)).not.toThrow()
    }
  })

  // the schema checks shape; these need code (URL parsing, reserved names, calendar dates)
  const codeOnly = new Set([
    'a webhook url that is not a URL', 'a webhook url with credentials', 'a Host header', 'a Content-Type header',
    'a ce- header', 'a header given twice', 'a time that is not a date', 'an X-Cdgossip- header (delivery sets its own)',
    'a Content-Encoding header', 'a Proxy- header', 'a Sec- header', 'a Forwarded header',
    // class patterns: the code answers with the nearest subject or class, not a regex
    'a bad class pattern', 'an unknown standard class', 'a versioned type as class'
  ])

  it.each(validators)('refuses the shapes validateSubscriptionInput refuses (%s)', (_, validate) => {
    for (const [label, input] of bad) {
      if (codeOnly.has(label)) continue
      expect(validate(input()), label).toBe(false)
    }
  })
})
