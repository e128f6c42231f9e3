import { describe, expect, it } from 'vitest'
import { InvalidRequestError } from '../../src/errors.js'
import { standardTypeOf } from '../../src/events/index.js'
import { contentHash } from '../../src/hooks/common.js'
import { jenkins, jenkinsRoot } from '../../src/hooks/kinds/jenkins.js'
import { basic, bearer, content, delivery, eventsOf, fixtureBytes, fixtureJson } from './token-kinds-helpers.js'
import type { HookDelivery } from '../../src/hooks/types.js'

const SECRETS = { current: 'jenkins-current-token', previous: 'jenkins-previous-token' }
const derived = jenkins.parseSettings({})

function signed (name: string): HookDelivery {
  return delivery(fixtureBytes('jenkins', name), { authorization: bearer(SECRETS.current), 'content-type': 'application/json' })
}

describe('jenkins kind: authentication', () => {
  const body = fixtureBytes('jenkins', 'notification-started.json')

  it('accepts a bearer token or basic credentials whose password is the secret, current or previous', () => {
    expect(jenkins.authenticate(delivery(body, { authorization: bearer(SECRETS.current) }), SECRETS, derived)).toBe(true)
    expect(jenkins.authenticate(delivery(body, { authorization: bearer(SECRETS.previous) }), SECRETS, derived)).toBe(true)
    expect(jenkins.authenticate(delivery(body, { authorization: basic('ci', SECRETS.current) }), SECRETS, derived)).toBe(true)
    expect(jenkins.authenticate(delivery(body, { authorization: basic('ci', SECRETS.previous) }), SECRETS, derived)).toBe(true)
  })

  it('refuses a missing, forged or wrong-user credential', () => {
    expect(jenkins.authenticate(delivery(body), SECRETS, derived)).toBe(false)
    expect(jenkins.authenticate(delivery(body, { authorization: bearer('forged') }), SECRETS, derived)).toBe(false)
    expect(jenkins.authenticate(delivery(body, { authorization: basic('ci', 'forged') }), SECRETS, derived)).toBe(false)
    expect(jenkins.authenticate(delivery(body, { authorization: `Digest ${SECRETS.current}` }), SECRETS, derived)).toBe(false)
    const withUser = jenkins.parseSettings({ user: 'ci' })
    expect(jenkins.authenticate(delivery(body, { authorization: basic('ci', SECRETS.current) }), SECRETS, withUser)).toBe(true)
    expect(jenkins.authenticate(delivery(body, { authorization: basic('mallory', SECRETS.current) }), SECRETS, withUser)).toBe(false)
  })

  it('checks its settings', () => {
    expect(jenkins.parseSettings({ url: 'https://ci.example.org/jenkins/' })).toEqual({ url: 'https://ci.example.org/jenkins' })
    expect(() => jenkins.parseSettings({ url: 'ftp://x' })).toThrow(InvalidRequestError)
    expect(() => jenkins.parseSettings({ token: 'x' })).toThrow(/unknown field "token"/)
  })
})

describe('jenkins kind: Notification plugin', () => {
  it('QUEUED and STARTED become pipelinerun.queued / started of the build', () => {
    const payload = fixtureJson('jenkins', 'notification-queued.json')
    const [queued] = eventsOf(jenkins.translate(signed('notification-queued.json'), derived))
    expect(queued!.context.type).toBe(standardTypeOf('pipelinerun.queued'))
    expect(queued!.context.source).toBe('https://ci.example.org/jenkins')
    expect(queued!.context.id).toBe(contentHash(signed('notification-queued.json')))
    // no time in a QUEUED payload: the epoch, never the clock
    expect(queued!.context.timestamp).toBe('1970-01-01T00:00:00.000Z')
    expect(queued!.subject.id).toBe(payload.build.full_url)
    expect(content(queued!)).toEqual({ pipelineName: 'release-train', uri: payload.build.full_url })

    const started = fixtureJson('jenkins', 'notification-started.json')
    const [event] = eventsOf(jenkins.translate(signed('notification-started.json'), derived))
    expect(event!.context.type).toBe(standardTypeOf('pipelinerun.started'))
    expect(event!.context.timestamp).toBe('2026-11-30T09:14:07.500Z')
    expect(event!.subject.id).toBe(started.build.full_url)
    expect((event!.customData as Record<string, unknown>).scm).toEqual(started.build.scm)
  })

  it('COMPLETED is ignored: the final result comes with FINALIZED', () => {
    expect(jenkins.translate(signed('notification-readme-completed.json'), derived)).toEqual({ kind: 'ignored', reason: expect.stringContaining('COMPLETED') })
  })

  it('FINALIZED becomes pipelinerun.finished plus artifact.published per archived artifact (README example)', () => {
    const payload = fixtureJson('jenkins', 'notification-readme-finalized.json')
    const events = eventsOf(jenkins.translate(signed('notification-readme-finalized.json'), derived))
    expect(events.map(e => e.context.type)).toEqual([standardTypeOf('pipelinerun.finished'), standardTypeOf('artifact.published'), standardTypeOf('artifact.published')])
    const hash = contentHash(signed('notification-readme-finalized.json'))
    expect(events.map(e => e.context.id)).toEqual([`${hash}-0`, `${hash}-1`, `${hash}-2`])
    expect(events[0]!.context.source).toBe('http://localhost:8080')
    expect(content(events[0]!)).toEqual({ pipelineName: 'asgard', uri: payload.build.full_url, outcome: 'success' })
    expect(events.slice(1).map(e => e.subject.id)).toEqual([
      'pkg:generic/asgard/asgard.war@18?download_url=http%3A%2F%2Flocalhost%3A8080%2Fjob%2Fasgard%2F18%2Fartifact%2Fasgard.war',
      'pkg:generic/asgard/asgard-standalone.jar@18?download_url=http%3A%2F%2Flocalhost%3A8080%2Fjob%2Fasgard%2F18%2Fartifact%2Fasgard-standalone.jar'
    ])
  })

  it('maps the build result to the outcome, with the end time', () => {
    const [finished, artifact] = eventsOf(jenkins.translate(signed('notification-finalized-unstable.json'), derived))
    expect(content(finished!)).toMatchObject({ outcome: 'failure', errors: 'Jenkins result UNSTABLE' })
    // start + duration (754321 ms)
    expect(finished!.context.timestamp).toBe('2026-11-30T09:26:41.821Z')
    expect(artifact!.subject.id).toMatch(/^pkg:generic\/release-train\/release-train-2\.4\.0\.tgz@42\?download_url=/)
    const aborted = fixtureJson('jenkins', 'notification-finalized-unstable.json')
    aborted.build.status = 'ABORTED'
    const [cancelled] = eventsOf(jenkins.translate(delivery(aborted), derived))
    expect(content(cancelled!).outcome).toBe('cancel')
  })

  it('uses the url setting as the source when given', () => {
    const settings = jenkins.parseSettings({ url: 'https://jenkins.example.net' })
    const [event] = eventsOf(jenkins.translate(signed('notification-started.json'), settings))
    expect(event!.context.source).toBe('https://jenkins.example.net')
    expect(jenkinsRoot('https://ci.example.org/jenkins/job/a/job/b/3/')).toBe('https://ci.example.org/jenkins')
  })

  it('gives identical output for a redelivery', () => {
    for (const name of ['notification-queued.json', 'notification-started.json', 'notification-readme-finalized.json', 'cdevents-plugin-pipelinerun-finished.json']) {
      expect(JSON.stringify(jenkins.translate(signed(name), derived))).toBe(JSON.stringify(jenkins.translate(signed(name), derived)))
    }
  })

  it('refuses a malformed notification, naming the field', () => {
    const noBuild = fixtureJson('jenkins', 'notification-started.json')
    delete noBuild.build
    expect(() => jenkins.translate(delivery(noBuild), derived)).toThrow(/"build"/)
    const noUrl = fixtureJson('jenkins', 'notification-started.json')
    delete noUrl.build.full_url
    expect(() => jenkins.translate(delivery(noUrl), derived)).toThrow(/build\.full_url/)
    const badNumber = fixtureJson('jenkins', 'notification-started.json')
    badNumber.build.number = 'forty-two'
    expect(() => jenkins.translate(delivery(badNumber), derived)).toThrow(/build\.number/)
    expect(() => jenkins.translate(delivery('[1,2]'), derived)).toThrow(InvalidRequestError)
  })

  it('ignores phases it does not know', () => {
    const odd = fixtureJson('jenkins', 'notification-started.json')
    odd.build.phase = 'DELETED'
    expect(jenkins.translate(delivery(odd), derived).kind).toBe('ignored')
  })
})

describe('jenkins kind: CDEvents plugin (pre-0.3 CloudEvent-extension form)', () => {
  it('upgrades pipelinerun events, resolving relative URLs against the Jenkins root', () => {
    const payload = fixtureJson('jenkins', 'cdevents-plugin-pipelinerun-finished.json')
    const d = signed('cdevents-plugin-pipelinerun-finished.json')
    const [event] = eventsOf(jenkins.translate(d, derived))
    expect(event!.context.type).toBe(standardTypeOf('pipelinerun.finished'))
    // the plugin uses the build number as every event's id: the content hash is used instead
    expect(event!.context.id).toBe(contentHash(d))
    expect(event!.context.source).toBe('http://localhost:8080/jenkins/job/')
    expect(event!.context.timestamp).toBe(payload.time)
    expect(event!.subject.id).toBe('http://localhost:8080/jenkins/job/PipelineCommit/167/')
    expect(content(event!)).toEqual({ pipelineName: 'PipelineCommit', uri: 'http://localhost:8080/jenkins/job/PipelineCommit/167/', outcome: 'success' })
    expect(event!.customData).toEqual(payload.data)

    const [started] = eventsOf(jenkins.translate(signed('cdevents-plugin-pipelinerun-started.json'), derived))
    expect(started!.context.type).toBe(standardTypeOf('pipelinerun.started'))
    expect(started!.context.id).not.toBe(event!.context.id)
  })

  it('upgrades taskrun events', () => {
    const [task] = eventsOf(jenkins.translate(signed('cdevents-plugin-taskrun-finished.json'), jenkins.parseSettings({ url: 'http://localhost:8080/jenkins' })))
    expect(task!.context.type).toBe(standardTypeOf('taskrun.finished'))
    expect(content(task!)).toEqual({ taskName: 'PipelineCommit', uri: 'http://localhost:8080/jenkins/job/PipelineCommit/167/', outcome: 'success' })
  })

  it('upgrades a 0.3 CDEvent wrapped in a CloudEvent, keeping its own id', () => {
    const inner = fixtureJson('cdevents', 'v0.3-pipelinerun-finished.json')
    const ce = { specversion: '1.0', id: 'x', source: 'job/', type: inner.context.type, time: inner.context.timestamp, data: inner }
    const [event] = eventsOf(jenkins.translate(delivery(ce), derived))
    expect(event!.context.id).toBe(inner.context.id)
  })
})
