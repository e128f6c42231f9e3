import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { sign } from '@octokit/webhooks-methods'
import { describe, expect, it } from 'vitest'
import { github } from '../../src/hooks/kinds/github.js'
import { thrown } from '../helpers/errors.js'
import { bytes, delivery, eventsOf, expectValidEvent, onlyEvent } from './forge-helpers.js'
import type { HookDelivery, Translation } from '../../src/hooks/types.js'

/**
 * The github kind against the payloads of @octokit/webhooks-examples (GitHub's documented
 * examples, collected by the Octokit project), signed as GitHub signs them: with
 * @octokit/webhooks-methods' `sign`, not with the code under test.
 */

interface ExampleGroup { name: string, examples: Array<Record<string, any>> }
const requireJson = createRequire(import.meta.url)
const EXAMPLES = requireJson('@octokit/webhooks-examples/api.github.com/index.json') as ExampleGroup[]
/** GitHub Enterprise Server's examples too: their payloads differ in places (older fields, other hosts). */
const GHES_VERSIONS = ['ghes-31', 'ghes-32', 'ghes-33', 'ghes-34', 'ghes-35']
const ALL_EXAMPLES = [EXAMPLES, ...GHES_VERSIONS.map(v => requireJson(`@octokit/webhooks-examples/${v}/index.json`) as ExampleGroup[])]

const SECRET = 'github-test-secret'
const PREVIOUS = 'github-previous-secret'
const SECRETS = { current: SECRET, previous: PREVIOUS }
const SETTINGS = github.parseSettings(undefined)

const MAPPED_EVENTS = ['pull_request', 'pull_request_review', 'create', 'delete', 'workflow_run', 'workflow_job', 'check_suite',
  'check_run', 'release', 'registry_package', 'package', 'deployment_status', 'ping']

function examplesOf (name: string): Array<Record<string, any>> {
  return EXAMPLES.find(group => group.name === name)?.examples ?? []
}

function example (name: string, action?: string): Record<string, any> {
  const found = examplesOf(name).find(p => action === undefined || p.action === action)
  if (found === undefined) throw new Error(`no ${name} ${action ?? ''} example`)
  return structuredClone(found)
}

async function signed (event: string, payload: unknown, secret = SECRET, deliveryId = '72d3162e-cc78-11e3-81ab-4c9367dc0958'): Promise<HookDelivery> {
  const body = bytes(payload)
  return delivery({
    'X-GitHub-Event': event,
    'X-GitHub-Delivery': deliveryId,
    'X-Hub-Signature-256': await sign(secret, body.toString('utf8')),
    'Content-Type': 'application/json'
  }, body)
}

async function translated (event: string, payload: unknown): Promise<Translation> {
  const d = await signed(event, payload)
  expect(github.authenticate(d, SECRETS, SETTINGS)).toBe(true)
  return github.translate(d, SETTINGS)
}

describe('github source kind', () => {
  it('turns every example of every mapped event into schema-valid CDEvents or an explicit ignore', async () => {
    const types = new Set<string>()
    let examples = 0
    for (const groups of ALL_EXAMPLES) {
      for (const payload of groups.filter(g => MAPPED_EVENTS.includes(g.name)).flatMap(g => g.examples.map(p => ({ name: g.name, p })))) {
        const { name, p } = payload
        examples++
        const result = await translated(name, p)
        if (result.kind === 'ignored') {
          expect(result.reason).toMatch(/^github: /)
          continue
        }
        for (const event of eventsOf(result)) {
          types.add(event.context.type.split('.').slice(2, 4).join('.'))
          expect(event.context.source).toBe(p.repository.html_url)
          expect(event.context.id).toBe(createHash('sha256').update(bytes(p)).digest('hex'))
        }
      }
    }
    // 7.6.1 holds 97 examples of these events for api.github.com and 92 for the GHES versions
    expect(examples).toBeGreaterThanOrEqual(189)
    expect([...types].sort()).toEqual(['artifact.published', 'change.abandoned', 'change.created', 'change.reviewed',
      'change.updated', 'pipelinerun.finished', 'pipelinerun.queued', 'service.deployed', 'taskrun.finished', 'taskrun.started'])
  })

  it('authenticates the current and the previous secret, and nothing else', async () => {
    const payload = example('pull_request', 'opened')
    expect(github.authenticate(await signed('pull_request', payload, SECRET), SECRETS, SETTINGS)).toBe(true)
    expect(github.authenticate(await signed('pull_request', payload, PREVIOUS), SECRETS, SETTINGS)).toBe(true)
    expect(github.authenticate(await signed('pull_request', payload, PREVIOUS), { current: SECRET }, SETTINGS)).toBe(false)
    expect(github.authenticate(await signed('pull_request', payload, 'forged'), SECRETS, SETTINGS)).toBe(false)

    const good = await signed('pull_request', payload)
    const tampered = delivery({ ...good.headers } as Record<string, string>, bytes({ ...payload, action: 'closed' }))
    expect(github.authenticate(tampered, SECRETS, SETTINGS)).toBe(false)
    const { 'x-hub-signature-256': signature, ...unsigned } = good.headers as Record<string, string>
    expect(github.authenticate(delivery(unsigned, good.body), SECRETS, SETTINGS)).toBe(false)
    // the hex alone, or the old SHA-1 header, is not GitHub's sha256 signature
    expect(github.authenticate(delivery({ ...unsigned, 'x-hub-signature-256': signature!.slice('sha256='.length) }, good.body), SECRETS, SETTINGS)).toBe(false)
    expect(github.authenticate(delivery({ ...unsigned, 'x-hub-signature-256': 'sha256=' }, good.body), SECRETS, SETTINGS)).toBe(false)
  })

  it('maps pull requests to change events with the PR number, repository and the PR\'s own times', async () => {
    const opened = example('pull_request', 'opened')
    const created = onlyEvent(await translated('pull_request', opened))
    expect(created.context.type).toBe('dev.cdevents.change.created.0.4.0')
    expect(created.context.source).toBe('https://github.com/Codertocat/Hello-World')
    expect(created.context.timestamp).toBe(new Date(opened.pull_request.created_at).toISOString())
    expect(created.subject.id).toBe('Codertocat/Hello-World/pull/2')
    expect(created.subject.content).toEqual({
      description: opened.pull_request.title,
      repository: { id: 'Codertocat/Hello-World', source: 'https://github.com/Codertocat/Hello-World' }
    })

    const updated = onlyEvent(await translated('pull_request', example('pull_request', 'synchronize')))
    expect(updated.context.type).toMatch(/^dev\.cdevents\.change\.updated\./)
    const edited = onlyEvent(await translated('pull_request', { ...opened, action: 'edited' }))
    expect(edited.context.type).toMatch(/^dev\.cdevents\.change\.updated\./)

    const closed = example('pull_request', 'closed')
    expect(closed.pull_request.merged).toBe(false)
    const abandoned = onlyEvent(await translated('pull_request', closed))
    expect(abandoned.context.type).toMatch(/^dev\.cdevents\.change\.abandoned\./)
    expect(abandoned.context.timestamp).toBe(new Date(closed.pull_request.closed_at).toISOString())

    closed.pull_request.merged = true
    closed.pull_request.merged_at = '2019-05-15T15:21:19Z'
    const merged = onlyEvent(await translated('pull_request', closed))
    expect(merged.context.type).toMatch(/^dev\.cdevents\.change\.merged\./)
    expect(merged.context.timestamp).toBe('2019-05-15T15:21:19.000Z')
    expect(merged.subject.id).toBe('Codertocat/Hello-World/pull/2')

    const review = example('pull_request_review', 'submitted')
    const reviewed = onlyEvent(await translated('pull_request_review', review))
    expect(reviewed.context.type).toMatch(/^dev\.cdevents\.change\.reviewed\./)
    expect(reviewed.subject.id).toBe('Codertocat/Hello-World/pull/2')
    expect(reviewed.context.timestamp).toBe(new Date(review.review.submitted_at).toISOString())
    expect(reviewed.customData).toEqual({ state: review.review.state })
  })

  it('maps branch creation and deletion, and ignores tags', async () => {
    const tag = example('create')
    expect(await translated('create', tag)).toEqual({ kind: 'ignored', reason: expect.stringContaining('github: create of a tag') })

    const branch = { ...tag, ref: 'feature/cdevents', ref_type: 'branch' }
    const created = onlyEvent(await translated('create', branch))
    expect(created.context.type).toMatch(/^dev\.cdevents\.branch\.created\./)
    expect(created.subject.id).toBe('feature/cdevents')
    expect(created.context.timestamp).toBe(new Date(tag.repository.pushed_at).toISOString())
    expect(created.subject.content).toEqual({ repository: { id: 'Codertocat/Hello-World', source: 'https://github.com/Codertocat/Hello-World' } })

    const deleted = onlyEvent(await translated('delete', { ...example('delete'), ref: 'feature/cdevents', ref_type: 'branch' }))
    expect(deleted.context.type).toMatch(/^dev\.cdevents\.branch\.deleted\./)
    expect(deleted.subject.id).toBe('feature/cdevents')
  })

  it('maps workflow runs and their jobs to pipeline and task runs that point at each other', async () => {
    const requested = example('workflow_run', 'requested')
    const queued = onlyEvent(await translated('workflow_run', requested))
    const runId = `octo-org/octo-repo/actions/runs/${requested.workflow_run.id as number}/attempts/${requested.workflow_run.run_attempt as number}`
    expect(queued.context.type).toMatch(/^dev\.cdevents\.pipelinerun\.queued\./)
    expect(queued.subject.id).toBe(runId)
    expect(queued.subject.content).toEqual({ pipelineName: 'test', uri: requested.workflow_run.html_url })

    const started = onlyEvent(await translated('workflow_run', { ...requested, action: 'in_progress' }))
    expect(started.context.type).toMatch(/^dev\.cdevents\.pipelinerun\.started\./)
    expect(started.subject.id).toBe(runId)

    const completed = example('workflow_run', 'completed')
    const success = examplesOf('workflow_run').find(p => p.action === 'completed' && p.workflow_run.conclusion === 'success')!
    const finished = onlyEvent(await translated('workflow_run', success))
    expect(finished.subject.content).toMatchObject({ outcome: 'success' })
    expect(finished.context.timestamp).toBe(new Date(success.workflow_run.updated_at).toISOString())
    for (const [conclusion, outcome] of [['failure', 'failure'], ['timed_out', 'failure'], ['cancelled', 'cancel'], ['something_new', 'error']]) {
      const run = structuredClone(success)
      run.workflow_run.conclusion = conclusion
      const event = onlyEvent(await translated('workflow_run', run))
      expect(event.subject.content).toMatchObject({ outcome, errors: `GitHub conclusion: ${conclusion!}` })
    }
    // GitHub's own example of a completed run without a conclusion: finished, no outcome
    expect(onlyEvent(await translated('workflow_run', completed)).subject.content).not.toHaveProperty('outcome')

    const job = examplesOf('workflow_job').find(p => p.action === 'completed' && p.workflow_job.conclusion === 'failure')!
    const taskFinished = onlyEvent(await translated('workflow_job', job))
    expect(taskFinished.context.type).toMatch(/^dev\.cdevents\.taskrun\.finished\./)
    expect(taskFinished.subject.id).toBe(`${job.repository.full_name as string}/actions/jobs/${job.workflow_job.id as number}`)
    expect(taskFinished.subject.content).toMatchObject({
      taskName: job.workflow_job.name,
      outcome: 'failure',
      pipelineRun: { id: `${job.repository.full_name as string}/actions/runs/${job.workflow_job.run_id as number}/attempts/${job.workflow_job.run_attempt as number}`, source: job.repository.html_url }
    })
    expect(taskFinished.context.timestamp).toBe(new Date(job.workflow_job.completed_at).toISOString())
    const taskStarted = onlyEvent(await translated('workflow_job', example('workflow_job', 'in_progress')))
    expect(taskStarted.context.type).toMatch(/^dev\.cdevents\.taskrun\.started\./)
    expect(await translated('workflow_job', example('workflow_job', 'queued'))).toMatchObject({ kind: 'ignored' })
  })

  it('maps checks of other apps, and ignores those of GitHub Actions (workflow events report them)', async () => {
    const actions = examplesOf('check_run').find(p => p.check_run.app.slug === 'github-actions')!
    expect(await translated('check_run', actions)).toEqual({ kind: 'ignored', reason: expect.stringContaining('GitHub Actions') })
    const suiteOfActions = examplesOf('check_suite').find(p => p.check_suite.app.slug === 'github-actions')!
    expect(await translated('check_suite', suiteOfActions)).toEqual({ kind: 'ignored', reason: expect.stringContaining('GitHub Actions') })

    const created = example('check_run', 'created')
    const started = onlyEvent(await translated('check_run', created))
    expect(started.context.type).toMatch(/^dev\.cdevents\.taskrun\.started\./)
    expect(started.subject.id).toBe(`Codertocat/Hello-World/check-runs/${created.check_run.id as number}`)
    expect(started.subject.content).toMatchObject({ pipelineRun: { id: `Codertocat/Hello-World/check-suites/${created.check_run.check_suite.id as number}` } })

    const suite = examplesOf('check_suite').find(p => p.action === 'completed' && p.check_suite.app.slug === undefined)!
    const finished = onlyEvent(await translated('check_suite', suite))
    expect(finished.context.type).toMatch(/^dev\.cdevents\.pipelinerun\.finished\./)
    expect(finished.subject.id).toBe(`Codertocat/Hello-World/check-suites/${suite.check_suite.id as number}`)
    expect(finished.subject.content).toMatchObject({ outcome: 'success' })
  })

  it('publishes releases and packages as artifacts named by Package URLs', async () => {
    const release = onlyEvent(await translated('release', example('release', 'published')))
    expect(release.context.type).toMatch(/^dev\.cdevents\.artifact\.published\./)
    expect(release.subject.id).toBe('pkg:github/codertocat/hello-world@0.0.1')
    expect(release.subject.content).toEqual({ user: 'Codertocat' })
    expect(await translated('release', example('release', 'created'))).toMatchObject({ kind: 'ignored' })

    const npm = example('package', 'published')
    expect(onlyEvent(await translated('package', npm)).subject.id).toBe('pkg:npm/%40codertocat/hello-world-npm@1.0.0')

    const digest = `sha256:${'ab'.repeat(32)}`
    const container = structuredClone(npm)
    container.package.package_type = 'CONTAINER'
    container.package.name = 'hello-world'
    container.package.package_version.version = digest
    container.package.package_version.container_metadata = { tag: { name: 'v1.0.0', digest } }
    container.package.registry = { about_url: 'https://docs.github.com/packages', name: 'GitHub Container Registry', type: 'docker', url: 'https://ghcr.io', vendor: 'GitHub Inc' }
    const image = onlyEvent(await translated('package', container))
    expect(image.subject.id).toBe(`pkg:docker/codertocat/hello-world@${digest}?repository_url=ghcr.io`)
    expect(image.customData).toEqual({ tag: 'v1.0.0' })

    const maven = structuredClone(npm)
    maven.package.package_type = 'maven'
    maven.package.name = 'com.example.app'
    maven.package.package_version.version = '1.2.3'
    expect(onlyEvent(await translated('registry_package', { ...maven, registry_package: maven.package })).subject.id).toBe('pkg:maven/com.example/app@1.2.3')

    // a package linked to no repository: its owner is the source
    const unlinked = structuredClone(npm)
    delete unlinked.repository
    const fromOwner = onlyEvent(await translated('package', unlinked))
    expect(fromOwner.context.source).toBe(npm.package.owner.html_url)
    expect(fromOwner.subject.id).toBe('pkg:npm/%40codertocat/hello-world-npm@1.0.0')

    const noGroup = structuredClone(maven)
    noGroup.package.name = 'app'
    expect(await translated('package', noGroup)).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('has no Package URL') })

    const other = structuredClone(npm)
    other.package.package_type = 'unknown_type'
    expect(await translated('package', other)).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('has no Package URL') })
  })

  it('reports successful deployments only', async () => {
    const success = examplesOf('deployment_status').find(p => p.deployment_status.state === 'success')!
    const deployed = onlyEvent(await translated('deployment_status', success))
    expect(deployed.context.type).toMatch(/^dev\.cdevents\.service\.deployed\./)
    expect(deployed.subject.id).toBe('Codertocat/Hello-World')
    expect(deployed.subject.content).toEqual({
      environment: { id: 'production', source: 'https://github.com/Codertocat/Hello-World' },
      artifactId: `pkg:github/codertocat/hello-world@${success.deployment.sha as string}`
    })
    const inProgress = examplesOf('deployment_status').find(p => p.deployment_status.state === 'in_progress')!
    expect(await translated('deployment_status', inProgress)).toEqual({ kind: 'ignored', reason: expect.stringContaining('"in_progress"') })
  })

  it('ignores ping and unmapped events, and refuses malformed mapped payloads naming the field', async () => {
    expect(await translated('ping', example('ping'))).toEqual({ kind: 'ignored', reason: 'github: ping' })
    expect(await translated('star', { action: 'created' })).toEqual({ kind: 'ignored', reason: 'github: event "star" has no mapping' })
    const odd = example('pull_request', 'opened')
    odd.action = 'x'.repeat(100_000)
    const reason = (await translated('pull_request', odd) as { reason: string }).reason
    expect(reason.length).toBeLessThan(200)

    const noNumber = example('pull_request', 'opened')
    delete noNumber.pull_request.number
    expect(thrown(() => github.translate(delivery({ 'x-github-event': 'pull_request' }, bytes(noNumber)), SETTINGS)))
      .toMatchObject({ code: 'CDG_INVALID_REQUEST', message: expect.stringContaining('number') })
    const unmappedNoRepo = example('pull_request', 'labeled')
    delete unmappedNoRepo.repository
    expect(await translated('pull_request', unmappedNoRepo)).toMatchObject({ kind: 'ignored' })
    const noRepo = example('workflow_run', 'requested')
    delete noRepo.repository
    expect(thrown(() => github.translate(delivery({ 'x-github-event': 'workflow_run' }, bytes(noRepo)), SETTINGS)).message)
      .toContain('repository.full_name')
    expect(thrown(() => github.translate(delivery({ 'x-github-event': 'pull_request' }, bytes('{not json')), SETTINGS)).code).toBe('CDG_INVALID_REQUEST')
    expect(thrown(() => github.translate(delivery({}, bytes(noNumber)), SETTINGS)).message).toContain('X-GitHub-Event')
  })

  it('gives a redelivery, even under a new delivery id, the same bytes', async () => {
    const payload = example('workflow_run', 'requested')
    const first = github.translate(await signed('workflow_run', payload, SECRET, 'a'), SETTINGS)
    const again = github.translate(await signed('workflow_run', payload, SECRET, 'b'), SETTINGS)
    expect(JSON.stringify(again)).toBe(JSON.stringify(first))
    const event = onlyEvent(first)
    expectValidEvent(event)
    expect(event.context.id).toBe(createHash('sha256').update(bytes(payload)).digest('hex'))
  })

  it('takes no settings', () => {
    expect(github.parseSettings({})).toEqual({})
    expect(thrown(() => github.parseSettings({ url: 'x' })).message).toContain('unknown setting "url"')
    expect(thrown(() => github.parseSettings('x')).code).toBe('CDG_INVALID_REQUEST')
  })
})
