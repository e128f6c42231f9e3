import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { beforeAll, describe, expect, it } from 'vitest'
import { STANDARD_EVENT_CLASSES } from '../../src/events/index.js'
import {
  ConfigSubscriptionError,
  DuplicateSubscriptionError,
  InvalidSubscriptionError,
  SubscriptionRegistry
} from '../../src/subscriptions/index.js'
import type { MatchableEvent, SubscriptionChange } from '../../src/subscriptions/index.js'
import { thrown } from '../helpers/errors.js'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const specDir = path.resolve(repoRoot, '../shared/cdevents-spec')

let ONAP: string

beforeAll(async () => {
  ONAP = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
})
const KNOWN = ['artifact.published', 'artifact.signed', 'build.finished', 'build.started', 'pipelinerun.finished', 'pipelinerun.started']

function registry (): SubscriptionRegistry {
  let n = 0
  return new SubscriptionRegistry({
    now: () => new Date('2025-03-01T10:00:00Z'),
    newId: () => `gen-${++n}`,
    resolveName: peerId => peerId === ONAP ? 'onap' : undefined
  })
}

function event (eventClass: string, extra: Partial<MatchableEvent> = {}): MatchableEvent {
  return { eventClass, origin: ONAP, source: 'https://jenkins.onap.org/x', subjectId: 's1', trusted: true, ...extra }
}

describe('SubscriptionRegistry.add', () => {
  it('generates an id, stamps time and origin, fills defaults', () => {
    const r = registry()
    const sub = r.add({ classes: ['artifact.*'] }, { origin: 'api' })
    expect(sub).toEqual({
      id: 'gen-1',
      classes: ['artifact.*'],
      filter: {},
      includeUntrusted: false,
      start: { kind: 'now' },
      sink: { type: 'store' },
      createdAt: '2025-03-01T10:00:00.000Z',
      origin: 'api'
    })
    expect(r.get('gen-1')).toBe(sub)
    expect(r.size).toBe(1)
  })

  it('keeps a given id and takes per-call clock and id generator', () => {
    const r = registry()
    expect(r.add({ id: 'mine', classes: ['*'] }, { origin: 'config' })).toMatchObject({ id: 'mine', origin: 'config' })
    const sub = r.add({ classes: ['*'] }, { origin: 'api', now: () => new Date(0), newId: () => 'other' })
    expect(sub).toMatchObject({ id: 'other', createdAt: '1970-01-01T00:00:00.000Z' })
    expect(r.list().map(s => s.id)).toEqual(['mine', 'other'])
  })

  it('generates a UUID by default', () => {
    const sub = new SubscriptionRegistry().add({ classes: ['*'] }, { origin: 'api' })
    expect(sub.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
  })

  it('refuses a duplicate id', () => {
    const r = registry()
    r.add({ id: 'a', classes: ['*'] }, { origin: 'api' })
    const err = thrown(() => r.add({ id: 'a', classes: ['build.*'] }, { origin: 'api' }))
    expect(err).toBeInstanceOf(DuplicateSubscriptionError)
    expect(err.code).toBe('CDG_INVALID_REQUEST')
    expect(r.get('a')?.classes).toEqual(['*'])
  })

  it('skips generated ids already in use', () => {
    const r = registry()
    r.add({ id: 'gen-1', classes: ['*'] }, { origin: 'api' })
    expect(r.add({ classes: ['*'] }, { origin: 'api' }).id).toBe('gen-2')
  })

  it('refuses invalid input and adds nothing', () => {
    const r = registry()
    const err = thrown(() => r.add({ classes: ['*'], sink: { type: 'webhook', url: 'ftp://x' } }, { origin: 'api' }))
    expect(err).toBeInstanceOf(InvalidSubscriptionError)
    expect(err.details).toEqual({ field: 'sink.url' })
    expect(r.size).toBe(0)
  })

  it('bounds the number of subscriptions', () => {
    const r = new SubscriptionRegistry({}, { maxSubscriptions: 2 })
    r.add({ classes: ['*'] }, { origin: 'api' })
    r.add({ classes: ['*'] }, { origin: 'api' })
    expect(thrown(() => r.add({ classes: ['*'] }, { origin: 'api' })).code).toBe('CDG_INVALID_REQUEST')
    expect(r.size).toBe(2)
  })

  it('hands out frozen subscriptions', () => {
    const sub = registry().add({ classes: ['*'], filter: { origins: ['onap'] }, sink: { type: 'webhook', url: 'https://h.example/', headers: { 'X-A': '1' } } }, { origin: 'api' })
    expect(() => { sub.classes.push('build.*') }).toThrow(TypeError)
    expect(() => { sub.filter.origins?.push('lf') }).toThrow(TypeError)
    expect(() => { (sub as { id: string }).id = 'x' }).toThrow(TypeError)
    expect(Object.isFrozen(sub.sink)).toBe(true)
  })
})

describe('SubscriptionRegistry.remove', () => {
  it('removes api subscriptions and reports absence', () => {
    const r = registry()
    r.add({ id: 'a', classes: ['*'] }, { origin: 'api' })
    expect(r.remove('a')).toBe(true)
    expect(r.get('a')).toBeUndefined()
    expect(r.remove('a')).toBe(false)
  })

  it('refuses to remove a config subscription over the API', () => {
    const r = registry()
    r.add({ id: 'from-file', classes: ['*'] }, { origin: 'config' })
    const err = thrown(() => r.remove('from-file'))
    expect(err).toBeInstanceOf(ConfigSubscriptionError)
    expect(err.code).toBe('CDG_INVALID_REQUEST')
    expect(thrown(() => r.remove('from-file', { origin: 'api' })).code).toBe('CDG_INVALID_REQUEST')
    expect(r.get('from-file')).toBeDefined()
    // the config loader itself may
    expect(r.remove('from-file', { origin: 'config' })).toBe(true)
  })
})

describe('SubscriptionRegistry.restore', () => {
  it('puts back a persisted subscription as it was', () => {
    const r = registry()
    const original = registry().add({ id: 'a', classes: ['build.*'], start: { kind: 'beginning' } }, { origin: 'config' })
    const restored = r.restore(JSON.parse(JSON.stringify(original)))
    expect(restored).toEqual(original)
    expect(thrown(() => r.restore(JSON.parse(JSON.stringify(original)))).code).toBe('CDG_INVALID_REQUEST')
  })

  it('refuses a corrupted record', () => {
    const err = thrown(() => registry().restore({ id: 'a', classes: ['*'], createdAt: 'yesterday', origin: 'api' }))
    expect(err.details).toEqual({ field: 'createdAt' })
  })
})

describe('SubscriptionRegistry.onChange', () => {
  it('reports additions and removals until unsubscribed', () => {
    const r = registry()
    const changes: SubscriptionChange[] = []
    const off = r.onChange(change => changes.push(change))
    const a = r.add({ id: 'a', classes: ['*'] }, { origin: 'api' })
    r.remove('a')
    expect(changes).toEqual([{ type: 'added', subscription: a }, { type: 'removed', subscription: a }])
    off()
    r.add({ id: 'b', classes: ['*'] }, { origin: 'api' })
    expect(changes).toHaveLength(2)
  })

  it('does not report failed changes', () => {
    const r = registry()
    r.add({ id: 'c', classes: ['*'] }, { origin: 'config' })
    const changes: SubscriptionChange[] = []
    r.onChange(change => changes.push(change))
    thrown(() => r.add({ id: 'c', classes: ['*'] }, { origin: 'api' }))
    thrown(() => r.remove('c'))
    thrown(() => r.add({ classes: [] }, { origin: 'api' }))
    expect(changes).toEqual([])
  })
})

describe('SubscriptionRegistry.topicsFor', () => {
  it('is empty without subscriptions', () => {
    expect(registry().topicsFor(KNOWN)).toEqual([])
  })

  it('expands wildcards against the known classes and keeps exact classes', () => {
    const r = registry()
    r.add({ classes: ['artifact.*', 'pipelinerun.finished'] }, { origin: 'api' })
    r.add({ classes: ['build.started', 'x.mytool-resource.created', 'artifact.signed'] }, { origin: 'api' })
    expect(r.topicsFor(KNOWN)).toEqual([
      'artifact.published', 'artifact.signed', 'build.started', 'pipelinerun.finished', 'x.mytool-resource.created'
    ])
  })

  it('`*` joins every known class plus named custom ones', () => {
    const r = registry()
    r.add({ classes: ['*'] }, { origin: 'api' })
    r.add({ classes: ['x.mytool-resource.created'] }, { origin: 'api' })
    expect(r.topicsFor(KNOWN)).toEqual([...KNOWN, 'x.mytool-resource.created'].sort())
  })

  it('cannot expand a custom wildcard, and says so', () => {
    const r = registry()
    r.add({ classes: ['x.mytool-resource.*', 'ticket.*', 'build.*'] }, { origin: 'api' })
    expect(r.topicsFor(KNOWN)).toEqual(['build.finished', 'build.started'])
    expect(r.unexpandedPatterns(KNOWN)).toEqual(['ticket.*', 'x.mytool-resource.*'])
    // a custom class the node knows of (e.g. seen before) is covered by the wildcard
    expect(r.topicsFor([...KNOWN, 'x.mytool-resource.deleted'])).toContain('x.mytool-resource.deleted')
  })

  it('follows removals', () => {
    const r = registry()
    r.add({ id: 'a', classes: ['artifact.*'] }, { origin: 'api' })
    r.add({ id: 'b', classes: ['build.started'] }, { origin: 'api' })
    r.remove('a')
    expect(r.topicsFor(KNOWN)).toEqual(['build.started'])
  })

  it('expands against the standard vocabulary by default', () => {
    const r = registry()
    r.add({ classes: ['testcaserun.*', 'x.mytool-resource.created'] }, { origin: 'api' })
    expect(r.topicsFor()).toEqual(['testcaserun.finished', 'testcaserun.queued', 'testcaserun.skipped', 'testcaserun.started', 'x.mytool-resource.created'])
    r.add({ classes: ['*'] }, { origin: 'api' })
    expect(r.topicsFor()).toEqual([...STANDARD_EVENT_CLASSES, 'x.mytool-resource.created'].sort())
    expect(r.unexpandedPatterns()).toEqual([])
  })

  it.skipIf(!fs.existsSync(specDir))('`*` covers every class of the official conformance examples (needs ../shared/cdevents-spec)', () => {
    const official = fs.readdirSync(path.join(specDir, 'conformance')).map(f => f.replace(/\.json$/, '').replace('_', '.')).sort()
    expect(official).toHaveLength(45)
    const r = registry()
    r.add({ classes: ['*'] }, { origin: 'api' })
    expect(r.topicsFor()).toEqual(official)
  })
})

describe('SubscriptionRegistry.anySubscriptionWants / matching', () => {
  it('is false without subscriptions', () => {
    expect(registry().anySubscriptionWants(event('build.started'))).toBe(false)
  })

  it('applies classes and filters of every subscription', () => {
    const r = registry()
    r.add({ id: 'fail', classes: ['pipelinerun.finished'], filter: { origins: ['onap'], outcome: 'failure' } }, { origin: 'api' })
    r.add({ id: 'art', classes: ['artifact.*'], filter: { sourcePrefix: 'https://jenkins.onap.org' } }, { origin: 'api' })
    r.add({ id: 'all', classes: ['*'], filter: { subject: 'only-this' } }, { origin: 'api' })

    expect(r.anySubscriptionWants(event('pipelinerun.finished', { outcome: 'failure' }))).toBe(true)
    expect(r.anySubscriptionWants(event('pipelinerun.finished', { outcome: 'success' }))).toBe(false)
    expect(r.anySubscriptionWants(event('artifact.published'))).toBe(true)
    expect(r.anySubscriptionWants(event('artifact.published', { source: 'https://gitlab/' }))).toBe(false)
    expect(r.anySubscriptionWants(event('build.started'))).toBe(false)
    expect(r.anySubscriptionWants(event('build.started', { subjectId: 'only-this' }))).toBe(true)
    expect(r.matching(event('artifact.published', { subjectId: 'only-this' })).map(s => s.id)).toEqual(['art', 'all'])
  })

  it('keeps untrusted events out unless a subscription includes them', () => {
    const r = registry()
    r.add({ id: 'strict', classes: ['*'] }, { origin: 'api' })
    const untrusted = event('build.started', { trusted: false })
    expect(r.anySubscriptionWants(untrusted)).toBe(false)
    r.add({ id: 'open', classes: ['build.*'], includeUntrusted: true }, { origin: 'api' })
    expect(r.anySubscriptionWants(untrusted)).toBe(true)
    expect(r.matching(untrusted).map(s => s.id)).toEqual(['open'])
    expect(r.matching(event('build.started')).map(s => s.id)).toEqual(['strict', 'open'])
  })

  it('sees additions and removals after a class was cached', () => {
    const r = registry()
    r.add({ id: 'a', classes: ['artifact.*'] }, { origin: 'api' })
    expect(r.anySubscriptionWants(event('build.started'))).toBe(false)
    r.add({ id: 'b', classes: ['build.started'] }, { origin: 'api' })
    expect(r.anySubscriptionWants(event('build.started'))).toBe(true)
    r.remove('b')
    expect(r.anySubscriptionWants(event('build.started'))).toBe(false)
  })

  it('resolves origin names through the injected resolver', () => {
    const r = new SubscriptionRegistry({ resolveName: () => undefined })
    r.add({ classes: ['*'], filter: { origins: ['onap'] } }, { origin: 'api' })
    expect(r.anySubscriptionWants(event('build.started'))).toBe(false)
    r.add({ classes: ['*'], filter: { origins: [ONAP] } }, { origin: 'api' })
    expect(r.anySubscriptionWants(event('build.started'))).toBe(true)
  })
})
