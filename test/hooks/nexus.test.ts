import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { InvalidRequestError } from '../../src/errors.js'
import { standardTypeOf } from '../../src/events/index.js'
import { contentHash } from '../../src/hooks/common.js'
import { nexus } from '../../src/hooks/kinds/nexus.js'
import { content, delivery, eventsOf, fixtureBytes, fixtureJson } from './token-kinds-helpers.js'
import type { HookDelivery } from '../../src/hooks/types.js'

const SECRETS = { current: 'nexus-current-key', previous: 'nexus-previous-key' }
const settings = nexus.parseSettings({ url: 'https://nexus.example.org/' })
const DELIVERY_ID = '7f4a6dde-5c68-4999-bcc0-a62f3fb8ae48'

/** Signed as Nexus signs: hex HMAC-SHA1 of the body under the secret key. */
function signed (body: Uint8Array, secret = SECRETS.current, event = 'rm:repository:component', extra: Record<string, string> = {}): HookDelivery {
  return delivery(body, {
    'content-type': 'application/json; charset=UTF-8',
    'x-nexus-webhook-id': event,
    'x-nexus-webhook-delivery': DELIVERY_ID,
    'x-nexus-webhook-signature': createHmac('sha1', secret).update(body).digest('hex'),
    ...extra
  })
}

function fixture (name: string, event?: string): HookDelivery {
  return signed(fixtureBytes('nexus', name), SECRETS.current, event)
}

describe('nexus kind: authentication', () => {
  const body = fixtureBytes('nexus', 'component-created-maven2.json')

  it('accepts the HMAC-SHA1 of the body under the current or previous key', () => {
    expect(nexus.authenticate(signed(body), SECRETS, settings)).toBe(true)
    expect(nexus.authenticate(signed(body, SECRETS.previous), SECRETS, settings)).toBe(true)
  })

  it('refuses a missing or forged signature, or one over other bytes', () => {
    expect(nexus.authenticate(signed(body, 'forged'), SECRETS, settings)).toBe(false)
    const unsigned = signed(body)
    expect(nexus.authenticate({ ...unsigned, headers: { ...unsigned.headers, 'x-nexus-webhook-signature': undefined } }, SECRETS, settings)).toBe(false)
    const tampered = signed(body)
    expect(nexus.authenticate({ ...tampered, body: fixtureBytes('nexus', 'component-created-npm.json') }, SECRETS, settings)).toBe(false)
    expect(nexus.authenticate(signed(body, SECRETS.previous), { current: SECRETS.current }, settings)).toBe(false)
  })

  it('needs the Nexus URL', () => {
    expect(settings).toEqual({ url: 'https://nexus.example.org' })
    expect(() => nexus.parseSettings({})).toThrow(/"url"/)
  })
})

describe('nexus kind: component CREATED → artifact.published with a Package URL', () => {
  it('maps the documented npm component example', () => {
    const payload = fixtureJson('nexus', 'component-created-npm.json')
    const [event] = eventsOf(nexus.translate(fixture('component-created-npm.json'), settings))
    expect(event!.context.type).toBe(standardTypeOf('artifact.published'))
    expect(event!.context.id).toBe(DELIVERY_ID)
    expect(event!.context.source).toBe('https://nexus.example.org')
    // `+0000` normalised to RFC 3339
    expect(event!.context.timestamp).toBe('2016-11-10T23:57:49.664Z')
    expect(event!.subject.id).toBe(`pkg:npm/${payload.component.name}@${payload.component.version}`)
    expect(event!.subject.source).toBe('https://nexus.example.org/repository/npm-proxy')
    expect(content(event!)).toEqual({ user: 'admin' })
  })

  it.each([
    ['component-created-maven2.json', 'pkg:maven/org.example.platform/release-train@2.4.0'],
    ['component-created-npm-scoped.json', 'pkg:npm/%40example/widgets@1.3.0'],
    ['component-created-docker.json', 'pkg:docker/platform/release-train@2.4.0'],
    ['component-created-pypi.json', 'pkg:pypi/release-train@2.4.0'],
    ['component-created-raw.json', 'pkg:generic/releases/2.4.0/release-train-2.4.0.tar.gz']
  ])('%s → %s', (name, purl) => {
    const [event] = eventsOf(nexus.translate(fixture(name), settings))
    expect(event!.subject.id).toBe(purl)
  })

  it('uses the content hash when Nexus sends no delivery id, and repeats itself on redelivery', () => {
    const d = fixture('component-created-maven2.json')
    const noId = { ...d, headers: { ...d.headers, 'x-nexus-webhook-delivery': undefined } }
    const [event] = eventsOf(nexus.translate(noId, settings))
    expect(event!.context.id).toBe(contentHash(d))
    expect(JSON.stringify(nexus.translate(d, settings))).toBe(JSON.stringify(nexus.translate(fixture('component-created-maven2.json'), settings)))
  })
})

describe('nexus kind: ignored and malformed', () => {
  it('ignores other actions, other events and formats with no Package URL mapping', () => {
    expect(nexus.translate(fixture('component-updated-maven2.json'), settings)).toEqual({ kind: 'ignored', reason: expect.stringContaining('UPDATED') })
    expect(nexus.translate(fixture('asset-created.json', 'rm:repository:asset'), settings)).toEqual({ kind: 'ignored', reason: expect.stringContaining('rm:repository:asset') })
    expect(nexus.translate(fixture('component-created-conan.json'), settings)).toEqual({ kind: 'ignored', reason: expect.stringContaining('conan') })
  })

  it('refuses a component without what its Package URL needs, naming the field', () => {
    const noVersion = fixtureJson('nexus', 'component-created-maven2.json')
    delete noVersion.component.version
    expect(() => nexus.translate(signed(new TextEncoder().encode(JSON.stringify(noVersion))), settings)).toThrow(/component\.version/)
    const noTime = fixtureJson('nexus', 'component-created-maven2.json')
    noTime.timestamp = 'yesterday'
    expect(() => nexus.translate(signed(new TextEncoder().encode(JSON.stringify(noTime))), settings)).toThrow(/timestamp/)
    const noComponent = fixtureJson('nexus', 'component-created-maven2.json')
    delete noComponent.component
    expect(() => nexus.translate(signed(new TextEncoder().encode(JSON.stringify(noComponent))), settings)).toThrow(InvalidRequestError)
  })
})
