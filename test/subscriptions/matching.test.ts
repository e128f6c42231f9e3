import { describe, expect, it } from 'vitest'
import { matchableFrom, subscriptionMatches, toMatchable } from '../../src/subscriptions/index.js'
import type { SignedEvent } from '../../src/events/types.js'
import type { StoredEvent } from '../../src/store/types.js'
import type { MatchableEvent, Subscription, SubscriptionFilter } from '../../src/subscriptions/index.js'

const ONAP = '12D3KooWONAPonapONAPonapONAPonapONAPonapONAPonapONAP'
const LF = '12D3KooWLFlfLFlfLFlfLFlfLFlfLFlfLFlfLFlfLFlfLFlfLFlf'
const names = new Map([[ONAP, 'onap'], [LF, 'lf']])
const resolveName = (peerId: string): string | undefined => names.get(peerId)

function sub (classes: string[], filter: SubscriptionFilter = {}, includeUntrusted = false): Subscription {
  return { id: 's', classes, filter, includeUntrusted, start: { kind: 'now' }, sink: { type: 'store' }, createdAt: '2025-01-01T00:00:00.000Z', origin: 'api' }
}

const event: MatchableEvent = {
  eventClass: 'pipelinerun.finished',
  origin: ONAP,
  source: 'https://jenkins.onap.org/job/build',
  subjectId: 'run-42',
  outcome: 'failure',
  trusted: true
}

describe('subscriptionMatches', () => {
  it.each([
    [['*'], true],
    [['pipelinerun.*'], true],
    [['pipelinerun.finished'], true],
    [['artifact.*', 'pipelinerun.finished'], true],
    [['pipelinerun.started'], false],
    [['taskrun.*'], false],
    [['x.mytool-pipelinerun.*'], false]
  ])('classes %j → %s', (classes, expected) => {
    expect(subscriptionMatches(sub(classes), event, resolveName)).toBe(expected)
  })

  it.each<[SubscriptionFilter, boolean]>([
    [{ origins: [ONAP] }, true],
    [{ origins: ['onap'] }, true],
    [{ origins: ['lf', 'onap'] }, true],
    [{ origins: [LF] }, false],
    [{ origins: ['lf'] }, false],
    [{ origins: ['nobody'] }, false],
    [{ sourcePrefix: 'https://jenkins.onap.org' }, true],
    [{ sourcePrefix: 'https://jenkins.onap.org/job/build' }, true],
    [{ sourcePrefix: 'https://gitlab' }, false],
    [{ subject: 'run-42' }, true],
    [{ subject: 'run-4' }, false],
    [{ outcome: 'failure' }, true],
    [{ outcome: 'success' }, false],
    [{ origins: ['onap'], sourcePrefix: 'https://jenkins.onap.org', subject: 'run-42', outcome: 'failure' }, true],
    [{ origins: ['onap'], sourcePrefix: 'https://jenkins.onap.org', subject: 'run-42', outcome: 'success' }, false]
  ])('filter %j → %s', (filter, expected) => {
    expect(subscriptionMatches(sub(['*'], filter), event, resolveName)).toBe(expected)
  })

  it('an outcome filter excludes events without an outcome', () => {
    const { outcome: _, ...noOutcome } = event
    expect(subscriptionMatches(sub(['*'], { outcome: 'failure' }), noOutcome, resolveName)).toBe(false)
    expect(subscriptionMatches(sub(['*']), noOutcome, resolveName)).toBe(true)
  })

  it('a name filter follows the trust list at match time', () => {
    const s = sub(['*'], { origins: ['onap'] })
    expect(subscriptionMatches(s, event, () => undefined)).toBe(false)
    expect(subscriptionMatches(s, event, () => 'onap')).toBe(true)
    expect(subscriptionMatches(s, event, () => 'renamed')).toBe(false)
  })

  it('excludes untrusted events unless includeUntrusted', () => {
    const untrusted = { ...event, trusted: false }
    expect(subscriptionMatches(sub(['*']), untrusted, resolveName)).toBe(false)
    expect(subscriptionMatches(sub(['*'], {}, true), untrusted, resolveName)).toBe(true)
    expect(subscriptionMatches(sub(['*'], { origins: ['onap'] }, true), untrusted, resolveName)).toBe(true)
    // includeUntrusted widens, it does not restrict to untrusted
    expect(subscriptionMatches(sub(['*'], {}, true), event, resolveName)).toBe(true)
  })
})

function signed (content: Record<string, unknown>): SignedEvent {
  // only the fields the matchable view reads are meaningful here
  return {
    bytes: new Uint8Array(),
    digest: '00',
    data: new Uint8Array(),
    origin: ONAP,
    sequence: 1,
    eventClass: 'pipelinerun.finished',
    attributes: {
      specversion: '1.0',
      id: 'e1',
      source: 'https://jenkins.onap.org/job/build',
      type: 'dev.cdevents.pipelinerun.finished.0.2.0',
      sequence: '1',
      signedextattrs: 'sequence',
      dssematerial: '{}'
    },
    cdevent: {
      context: { specversion: '0.5.1', id: 'e1', source: '/ctx-source', type: 'dev.cdevents.pipelinerun.finished.0.2.0', timestamp: '2025-01-01T00:00:00Z' },
      subject: { id: 'run-42', content }
    }
  }
}

describe('toMatchable / matchableFrom', () => {
  it('takes class, origin, CloudEvent source, subject id, outcome and trust', () => {
    const stored: StoredEvent = { event: signed({ outcome: 'failure', pipelineName: 'p' }), cursor: 'c', receivedAt: '2025-01-01T00:00:01Z', trusted: false }
    expect(toMatchable(stored)).toEqual({
      eventClass: 'pipelinerun.finished',
      origin: ONAP,
      source: 'https://jenkins.onap.org/job/build',
      subjectId: 'run-42',
      outcome: 'failure',
      trusted: false
    })
  })

  it('leaves outcome out when it is not a string', () => {
    expect(matchableFrom(signed({ outcome: { code: 1 } }), true)).not.toHaveProperty('outcome')
    expect(matchableFrom(signed({}), true)).not.toHaveProperty('outcome')
    expect(matchableFrom(signed({}), true).trusted).toBe(true)
  })
})
