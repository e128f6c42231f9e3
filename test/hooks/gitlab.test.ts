import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { gitlab } from '../../src/hooks/kinds/gitlab.js'
import { thrown } from '../helpers/errors.js'
import { bytes, delivery, fixtureBytes, fixtureJson, onlyEvent } from './forge-helpers.js'
import type { HookDelivery, Translation } from '../../src/hooks/types.js'

/** The gitlab kind against the payload examples of GitLab's "Webhook events" page (fixtures/gitlab/README.md). */

const TOKEN = 'gitlab-test-token'
const PREVIOUS = 'gitlab-previous-token'
const SECRETS = { current: TOKEN, previous: PREVIOUS }
const SETTINGS = gitlab.parseSettings(undefined)

const HOOK_HEADER: Record<string, string> = {
  merge_request: 'Merge Request Hook',
  pipeline: 'Pipeline Hook',
  build: 'Job Hook',
  deployment: 'Deployment Hook',
  release: 'Release Hook',
  tag_push: 'Tag Push Hook'
}

function sent (body: Uint8Array, token: string | null = TOKEN, extra: Record<string, string> = {}): HookDelivery {
  let kind = ''
  try {
    kind = (JSON.parse(Buffer.from(body).toString('utf8')) as { object_kind?: string }).object_kind ?? ''
  } catch {
    // a malformed body is sent as it is
  }
  return delivery({
    'Content-Type': 'application/json',
    'X-Gitlab-Event': HOOK_HEADER[kind] ?? 'System Hook',
    'X-Gitlab-Instance': 'https://gitlab.example.com',
    'X-Gitlab-Event-UUID': '13792a34-cac6-4fda-95a8-c58e00a3954e',
    ...(token === null ? {} : { 'X-Gitlab-Token': token }),
    ...extra
  }, body)
}

function translated (body: Uint8Array, extra: Record<string, string> = {}): Translation {
  const d = sent(body, TOKEN, extra)
  expect(gitlab.authenticate(d, SECRETS, SETTINGS)).toBe(true)
  return gitlab.translate(d, SETTINGS)
}

function hash (body: Uint8Array): string {
  return createHash('sha256').update(body).digest('hex')
}

describe('gitlab source kind', () => {
  it('authenticates the current and the previous token, and nothing else', () => {
    const body = fixtureBytes('gitlab', 'merge-request-open.json')
    expect(gitlab.authenticate(sent(body, TOKEN), SECRETS, SETTINGS)).toBe(true)
    expect(gitlab.authenticate(sent(body, PREVIOUS), SECRETS, SETTINGS)).toBe(true)
    expect(gitlab.authenticate(sent(body, PREVIOUS), { current: TOKEN }, SETTINGS)).toBe(false)
    expect(gitlab.authenticate(sent(body, 'forged'), SECRETS, SETTINGS)).toBe(false)
    expect(gitlab.authenticate(sent(body, `${TOKEN} `), SECRETS, SETTINGS)).toBe(false)
    expect(gitlab.authenticate(sent(body, ''), SECRETS, SETTINGS)).toBe(false)
    expect(gitlab.authenticate(sent(body, null), SECRETS, SETTINGS)).toBe(false)
  })

  it('maps merge request actions to change events of the merge request', () => {
    const open = fixtureBytes('gitlab', 'merge-request-open.json')
    const created = onlyEvent(translated(open))
    expect(created.context.type).toBe('dev.cdevents.change.created.0.4.0')
    expect(created.context.source).toBe('http://example.com/gitlabhq/gitlab-test')
    expect(created.context.timestamp).toBe('2013-12-03T17:23:34.000Z')
    expect(created.context.id).toBe(hash(open))
    expect(created.subject.id).toBe('gitlabhq/gitlab-test/-/merge_requests/1')
    expect(created.subject.content).toEqual({
      description: 'MS-Viewport',
      repository: { id: 'gitlabhq/gitlab-test', source: 'http://example.com/gitlabhq/gitlab-test' }
    })

    for (const [action, eventClass] of [['update', 'change.updated'], ['merge', 'change.merged'], ['close', 'change.abandoned'], ['approved', 'change.reviewed']]) {
      const payload = fixtureJson('gitlab', 'merge-request-open.json')
      payload.object_attributes.action = action
      payload.object_attributes.updated_at = '2013-12-04 09:00:00 UTC'
      const event = onlyEvent(translated(bytes(payload)))
      expect(event.context.type.startsWith(`dev.cdevents.${eventClass!}.`)).toBe(true)
      expect(event.subject.id).toBe('gitlabhq/gitlab-test/-/merge_requests/1')
      expect(event.context.timestamp).toBe('2013-12-04T09:00:00.000Z')
    }
    for (const action of ['reopen', 'unapproved', 'approval', 'unapproval']) {
      const payload = fixtureJson('gitlab', 'merge-request-open.json')
      payload.object_attributes.action = action
      expect(translated(bytes(payload))).toEqual({ kind: 'ignored', reason: `gitlab: merge_request action "${action}" has no mapping` })
    }
  })

  it('maps pipeline statuses to pipeline run events with outcomes', () => {
    const success = onlyEvent(translated(fixtureBytes('gitlab', 'pipeline-success.json')))
    expect(success.context.type).toMatch(/^dev\.cdevents\.pipelinerun\.finished\./)
    expect(success.context.source).toBe('http://192.168.64.1:3005/gitlab-org/gitlab-test')
    expect(success.context.timestamp).toBe('2016-08-12T15:26:29.000Z')
    expect(success.subject.id).toBe('gitlab-org/gitlab-test/-/pipelines/31')
    expect(success.subject.content).toEqual({
      pipelineName: 'Pipeline for branch: master',
      uri: 'http://example.com/gitlab-org/gitlab-test/-/pipelines/31',
      outcome: 'success'
    })

    const cases: Array<[string, string, Record<string, unknown>]> = [
      ['pending', 'pipelinerun.queued', {}],
      ['created', 'pipelinerun.queued', {}],
      ['running', 'pipelinerun.started', {}],
      ['failed', 'pipelinerun.finished', { outcome: 'failure', errors: 'GitLab conclusion: failed' }],
      ['canceled', 'pipelinerun.finished', { outcome: 'cancel' }]
    ]
    for (const [status, eventClass, content] of cases) {
      const payload = fixtureJson('gitlab', 'pipeline-success.json')
      payload.object_attributes.status = status
      if (!['failed', 'canceled'].includes(status)) payload.object_attributes.finished_at = null
      const event = onlyEvent(translated(bytes(payload)))
      expect(event.context.type.startsWith(`dev.cdevents.${eventClass}.`)).toBe(true)
      expect(event.subject.content).toMatchObject(content)
      if (eventClass !== 'pipelinerun.finished') expect(event.context.timestamp).toBe('2016-08-12T15:23:28.000Z')
    }
    for (const status of ['manual', 'scheduled', 'skipped', 'waiting_for_resource']) {
      const payload = fixtureJson('gitlab', 'pipeline-success.json')
      payload.object_attributes.status = status
      expect(translated(bytes(payload))).toMatchObject({ kind: 'ignored', reason: `gitlab: pipeline status "${status}" has no mapping` })
    }
  })

  it('maps running and finished jobs to task runs of their pipeline, and ignores jobs that did not run', () => {
    expect(translated(fixtureBytes('gitlab', 'job-created.json'))).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('build_status "created"') })

    const running = fixtureJson('gitlab', 'job-created.json')
    running.build_status = 'running'
    running.build_started_at = '2021-02-23 02:43:00 UTC'
    const started = onlyEvent(translated(bytes(running)))
    expect(started.context.type).toMatch(/^dev\.cdevents\.taskrun\.started\./)
    expect(started.context.timestamp).toBe('2021-02-23T02:43:00.000Z')
    expect(started.subject.id).toBe('gitlab-org/gitlab-test/-/jobs/1977')
    expect(started.subject.content).toEqual({
      taskName: 'test',
      uri: 'http://192.168.64.1:3005/gitlab-org/gitlab-test/-/jobs/1977',
      pipelineRun: { id: 'gitlab-org/gitlab-test/-/pipelines/2366', source: 'http://192.168.64.1:3005/gitlab-org/gitlab-test' }
    })

    const failed = { ...running, build_status: 'failed', build_finished_at: '2021-02-23 02:45:10 UTC' }
    const finished = onlyEvent(translated(bytes(failed)))
    expect(finished.context.type).toMatch(/^dev\.cdevents\.taskrun\.finished\./)
    expect(finished.context.timestamp).toBe('2021-02-23T02:45:10.000Z')
    expect(finished.subject.content).toMatchObject({ outcome: 'failure', errors: 'GitLab conclusion: failed (script_failure)' })

    // job hooks of GitLab versions before the `project` object: the project comes from repository.homepage
    const old: Record<string, unknown> = { ...failed, build_status: 'success' }
    delete old.project
    const fromOld = onlyEvent(translated(bytes(old)))
    expect(fromOld.context.source).toBe('http://192.168.64.1:3005/gitlab-org/gitlab-test')
    expect(fromOld.subject.id).toBe('gitlab-org/gitlab-test/-/jobs/1977')
    expect(fromOld.subject.content).toMatchObject({ outcome: 'success' })
  })

  it('maps successful deployments to service.deployed with the deployed commit as a Package URL', () => {
    const deployed = onlyEvent(translated(fixtureBytes('gitlab', 'deployment-success.json')))
    expect(deployed.context.type).toMatch(/^dev\.cdevents\.service\.deployed\./)
    expect(deployed.context.timestamp).toBe('2021-04-28T19:50:00.000Z')
    expect(deployed.subject.id).toBe('root/test-deployment-webhooks')
    expect(deployed.subject.content).toEqual({
      environment: { id: 'staging', source: 'http://10.126.0.2:3000/root/test-deployment-webhooks' },
      artifactId: 'pkg:generic/root/test-deployment-webhooks@279484c09fbe69ededfced8c1bb6e6d24616b468'
    })
    const failed = fixtureJson('gitlab', 'deployment-success.json')
    failed.status = 'failed'
    expect(translated(bytes(failed))).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('status "failed"') })
  })

  it('publishes created releases as artifacts, and ignores tag pushes and unmapped hooks', () => {
    const release = onlyEvent(translated(fixtureBytes('gitlab', 'release-create.json')))
    expect(release.context.type).toMatch(/^dev\.cdevents\.artifact\.published\./)
    expect(release.context.source).toBe('https://example.com/gitlab-org/release-webhook-example')
    expect(release.context.timestamp).toBe('2020-11-02T12:55:12.000Z')
    expect(release.subject.id).toBe('pkg:generic/gitlab-org/release-webhook-example@v1.1')
    const updated = fixtureJson('gitlab', 'release-create.json')
    updated.action = 'update'
    expect(translated(bytes(updated))).toMatchObject({ kind: 'ignored' })

    expect(translated(fixtureBytes('gitlab', 'tag-push.json'))).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('tag push') })
    expect(translated(bytes({ object_kind: 'wiki_page', project: {} }))).toEqual({ kind: 'ignored', reason: 'gitlab: event "wiki_page" has no mapping' })
    expect(translated(bytes({ event_name: 'user_add_to_group' }))).toMatchObject({ kind: 'ignored' })
  })

  it('refuses malformed payloads of mapped hooks, naming the field', () => {
    const noIid = fixtureJson('gitlab', 'merge-request-open.json')
    delete noIid.object_attributes.iid
    expect(thrown(() => gitlab.translate(sent(bytes(noIid)), SETTINGS))).toMatchObject({ code: 'CDG_INVALID_REQUEST', message: expect.stringContaining('object_attributes.iid') })
    const unmappedNoProject = fixtureJson('gitlab', 'pipeline-success.json')
    unmappedNoProject.object_attributes.status = 'manual'
    delete unmappedNoProject.project
    expect(gitlab.translate(sent(bytes(unmappedNoProject)), SETTINGS)).toMatchObject({ kind: 'ignored' })
    const noProject = fixtureJson('gitlab', 'pipeline-success.json')
    delete noProject.project
    expect(thrown(() => gitlab.translate(sent(bytes(noProject)), SETTINGS)).message).toContain('project.web_url')
    const badTime = fixtureJson('gitlab', 'deployment-success.json')
    badTime.status_changed_at = 'yesterday'
    expect(thrown(() => gitlab.translate(sent(bytes(badTime)), SETTINGS)).message).toContain('status_changed_at')
    expect(thrown(() => gitlab.translate(sent(bytes('[1, 2')), SETTINGS)).code).toBe('CDG_INVALID_REQUEST')
  })

  it('uses the Idempotency-Key, else the content hash, so a redelivery gives identical bytes', () => {
    const body = fixtureBytes('gitlab', 'pipeline-success.json')
    const first = translated(body, { 'X-Gitlab-Event-UUID': 'one' })
    const again = translated(body, { 'X-Gitlab-Event-UUID': 'two' })
    expect(JSON.stringify(again)).toBe(JSON.stringify(first))
    expect(onlyEvent(first).context.id).toBe(hash(body))

    const key = '908a6d9e-45fd-46c8-97e6-c4f350f219dd'
    const keyed = translated(body, { 'Idempotency-Key': key })
    expect(onlyEvent(keyed).context.id).toBe(key)
    expect(JSON.stringify(translated(body, { 'Idempotency-Key': key }))).toBe(JSON.stringify(keyed))
    // a key that is not GitLab's UUID is not carried into an event id
    expect(onlyEvent(translated(body, { 'Idempotency-Key': 'x'.repeat(500) })).context.id).toBe(hash(body))
  })

  it('takes no settings', () => {
    expect(gitlab.parseSettings({})).toEqual({})
    expect(thrown(() => gitlab.parseSettings({ token: 'x' })).message).toContain('unknown setting "token"')
  })
})
