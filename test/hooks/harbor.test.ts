import { describe, expect, it } from 'vitest'
import { InvalidRequestError } from '../../src/errors.js'
import { standardTypeOf } from '../../src/events/index.js'
import { contentHash } from '../../src/hooks/common.js'
import { harbor } from '../../src/hooks/kinds/harbor.js'
import { content, delivery, eventsOf, fixtureBytes, fixtureJson } from './token-kinds-helpers.js'
import type { HookDelivery } from '../../src/hooks/types.js'

const SECRETS = { current: 'Basic aGFyYm9yOmN1cnJlbnQ=', previous: 'Bearer harbor-previous' }
const settings = harbor.parseSettings({ url: 'https://harbor.example.org' })

/** Harbor sends the policy's auth header value verbatim as Authorization. */
function signed (name: string, auth = SECRETS.current): HookDelivery {
  return delivery(fixtureBytes('harbor', name), { authorization: auth, 'content-type': 'application/json' })
}

describe('harbor kind: authentication', () => {
  it('accepts the configured Authorization value, current or previous, verbatim', () => {
    expect(harbor.authenticate(signed('push-artifact.json'), SECRETS, settings)).toBe(true)
    expect(harbor.authenticate(signed('push-artifact.json', SECRETS.previous), SECRETS, settings)).toBe(true)
  })

  it('refuses a missing, forged or merely similar value', () => {
    expect(harbor.authenticate(delivery(fixtureBytes('harbor', 'push-artifact.json')), SECRETS, settings)).toBe(false)
    expect(harbor.authenticate(signed('push-artifact.json', 'Basic Zm9yZ2Vk'), SECRETS, settings)).toBe(false)
    expect(harbor.authenticate(signed('push-artifact.json', `${SECRETS.current} `), SECRETS, settings)).toBe(false)
  })
})

describe('harbor kind: pushes → artifact.published', () => {
  it('maps the documented PUSH_ARTIFACT example', () => {
    const payload = fixtureJson('harbor', 'push-artifact.json')
    const d = signed('push-artifact.json')
    const [event] = eventsOf(harbor.translate(d, settings))
    const digest = payload.event_data.resources[0].digest as string
    expect(event!.context.type).toBe(standardTypeOf('artifact.published'))
    expect(event!.context.id).toBe(contentHash(d))
    expect(event!.context.source).toBe('https://harbor.example.org')
    expect(event!.context.timestamp).toBe(new Date(payload.occur_at * 1000).toISOString())
    expect(event!.subject.id).toBe(`pkg:docker/harbor/alpine@${digest}?repository_url=localhost`)
    expect(content(event!)).toEqual({ user: 'harbor-jobservice' })
    expect(event!.customData).toEqual({ resourceUrl: payload.event_data.resources[0].resource_url })
  })

  it('names the image by digest with its registry and keeps the tag aside', () => {
    const [event] = eventsOf(harbor.translate(signed('push-artifact-tagged.json'), settings))
    expect(event!.subject.id).toBe('pkg:docker/platform/team/release-train@sha256:1b7a2c5b8e7f0a4d2c9e5f3a6b8c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c?repository_url=harbor.example.org')
    expect(event!.customData).toMatchObject({ tag: '2.4.0' })
  })

  it('maps Harbor 1.x pushImage and the CloudEvents format', () => {
    const [old] = eventsOf(harbor.translate(signed('push-image-1x.json'), settings))
    expect(old!.subject.id).toBe('pkg:docker/test-webhook/debian@sha256:eb1494dee949e52c20084672700c9961d7fc99d1be1c07b5492bc61c3b22a460?repository_url=hub.harbor.com')
    expect(content(old!)).toEqual({ user: 'user1' })
    const ce = fixtureJson('harbor', 'cloudevents-artifact-pushed.json')
    const [event] = eventsOf(harbor.translate(signed('cloudevents-artifact-pushed.json'), settings))
    expect(event!.context.id).toBe(ce.id)
    expect(event!.context.timestamp).toBe('2023-04-03T06:04:53.000Z')
    expect(event!.subject.id).toMatch(/^pkg:docker\/harbor\/alpine@sha256:954b/)
  })

  it('gives one event per resource, with distinct ids, identical on redelivery', () => {
    const payload = fixtureJson('harbor', 'push-artifact.json')
    payload.event_data.resources.push({ ...payload.event_data.resources[0], digest: 'sha256:' + 'a'.repeat(64), tag: 'edge' })
    const d = delivery(payload)
    const events = eventsOf(harbor.translate(d, settings))
    expect(events.map(e => e.context.id)).toEqual([`${contentHash(d)}-0`, `${contentHash(d)}-1`])
    expect(JSON.stringify(harbor.translate(d, settings))).toBe(JSON.stringify(harbor.translate(delivery(payload), settings)))
  })

  it('ignores other events and refuses malformed pushes, naming the field', () => {
    expect(harbor.translate(signed('pull-artifact.json'), settings)).toEqual({ kind: 'ignored', reason: expect.stringContaining('PULL_ARTIFACT') })
    const noRepo = fixtureJson('harbor', 'push-artifact.json')
    delete noRepo.event_data.repository.repo_full_name
    expect(() => harbor.translate(delivery(noRepo), settings)).toThrow(/repo_full_name/)
    const noResources = fixtureJson('harbor', 'push-artifact.json')
    noResources.event_data.resources = []
    expect(() => harbor.translate(delivery(noResources), settings)).toThrow(/resources/)
    const noVersion = fixtureJson('harbor', 'push-artifact.json')
    noVersion.event_data.resources = [{ resource_url: 'x' }]
    expect(() => harbor.translate(delivery(noVersion), settings)).toThrow(InvalidRequestError)
  })
})
