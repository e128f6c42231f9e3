import { InvalidRequestError } from '../../errors.js'
import { cdevent, contentHash, header, jsonBody, matchesHmac } from '../common.js'
import {
  integerAt, isObject, objectAt, optionalIntegerAt, optionalStringAt, optionalTimeAt,
  outcomeOf, purl, quoted, rootObject, stringAt, timeAt, httpUrlAt, optionalHttpUrlAt
} from './forge-payload.js'
import { validatedEvent } from './token-and-payload.js'
import type { CDEvent } from '../../events/types.js'
import type { HookDelivery, SourceKind, SourceSecrets, Translation } from '../types.js'
import type { JsonObject, Outcome } from './forge-payload.js'

/**
 * GitHub webhooks (repository, organisation or GitHub App hooks, github.com or GitHub Enterprise).
 * Authenticated by `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`; the event name
 * is `X-GitHub-Event`, the action the payload's `action`. docs/hooks/github.md has the same table
 * for users.
 *
 * | GitHub event / action                              | CDEvent                 | subject id                                        |
 * |----------------------------------------------------|-------------------------|---------------------------------------------------|
 * | pull_request opened                                 | change.created          | `<owner>/<repo>/pull/<number>`                    |
 * | pull_request synchronize, edited                    | change.updated          | same                                              |
 * | pull_request closed, merged: true                   | change.merged           | same                                              |
 * | pull_request closed, merged: false                  | change.abandoned        | same                                              |
 * | pull_request_review submitted                       | change.reviewed         | same (customData.state: approved, …)              |
 * | create / delete, ref_type branch                    | branch.created/deleted  | the branch name                                   |
 * | workflow_run requested                              | pipelinerun.queued      | `<owner>/<repo>/actions/runs/<id>/attempts/<n>`   |
 * | workflow_run in_progress                            | pipelinerun.started     | same                                              |
 * | workflow_run completed                              | pipelinerun.finished    | same; outcome from conclusion                     |
 * | workflow_job in_progress                            | taskrun.started         | `<owner>/<repo>/actions/jobs/<id>`                |
 * | workflow_job completed                              | taskrun.finished        | same; outcome from conclusion                     |
 * | check_run created / completed (not GitHub Actions)  | taskrun.started/finished| `<owner>/<repo>/check-runs/<id>`                  |
 * | check_suite completed (not GitHub Actions)          | pipelinerun.finished    | `<owner>/<repo>/check-suites/<id>`                |
 * | release published                                   | artifact.published      | `pkg:github/<owner>/<repo>@<tag>`                 |
 * | package / registry_package published                | artifact.published      | purl of the package type (npm, maven, docker, …)  |
 * | deployment_status, state success                    | service.deployed        | `<owner>/<repo>`; artifactId `pkg:github/…@<sha>` |
 *
 * Everything else is answered `ignored` with the reason: ping; other actions; tags in
 * create/delete (tags are no CDEvents branch, and releases come from the release event);
 * workflow_job queued/waiting (taskrun has no queued event); check runs and suites of the
 * `github-actions` app (workflow_run/workflow_job already report them: one run, one set of events);
 * check_run requested_action/rerequested and check_suite requested/rerequested (nothing ran yet);
 * deployment_status other than success (service.deployed has no failure outcome); packages
 * without a Package URL (other package types; a Maven name without a group).
 *
 * - `context.source`: the repository's `html_url` (`https://github.com/<owner>/<repo>`); for a
 *   package linked to no repository, its owner's `html_url`.
 * - `context.id`: the sha256 of the signed body, not `X-GitHub-Delivery`: GitHub's signature does
 *   not cover headers, so a captured delivery replayed under a fresh delivery GUID would otherwise
 *   publish a second event; a redelivery from GitHub repeats the same body, hence the same id.
 * - `context.timestamp`: the payload's own time of the change (per row: the PR's created_at,
 *   updated_at, merged_at or closed_at; review submitted_at; the run's updated_at; the job's
 *   started_at/completed_at; the release's published_at; the deployment status' updated_at).
 *   create/delete carry no time of their own: the repository's `pushed_at` is used (the push that
 *   created or deleted the branch), else its `updated_at`.
 */

/** GitHub sends no settings-dependent behaviour: the kind takes none. */
export type GithubSettings = Record<string, never>

const SIGNATURE_PREFIX = 'sha256='

/** The GitHub App that runs GitHub Actions; its checks duplicate workflow_run/workflow_job. */
const ACTIONS_APP_SLUG = 'github-actions'

/** GitHub conclusions → CDEvents outcomes; anything else becomes `error`, with the word in `errors`. */
const CONCLUSIONS: Readonly<Record<string, Outcome['outcome']>> = {
  success: 'success',
  neutral: 'success',
  failure: 'failure',
  timed_out: 'failure',
  startup_failure: 'failure',
  action_required: 'failure',
  cancelled: 'cancel',
  skipped: 'cancel',
  stale: 'cancel'
}

interface Repo {
  fullName: string
  owner: string
  name: string
  url: string
}

interface Ctx {
  event: string
  what: string
  id: string
  payload: JsonObject
  repo: Repo
}

/** Package events of packages linked to no repository have no `repository`: the package's owner stands in. */
const OWNER_SOURCED_EVENTS = new Set(['package', 'registry_package'])

function repoOf (payload: JsonObject, event: string, what: string): Repo {
  if (OWNER_SOURCED_EVENTS.has(event) && payload.repository === undefined) {
    const owner = stringAt(payload, `${event}.owner.login`, what)
    return { fullName: owner, owner, name: stringAt(payload, `${event}.name`, what), url: httpUrlAt(payload, `${event}.owner.html_url`, what) }
  }
  const fullName = stringAt(payload, 'repository.full_name', what)
  const owner = optionalStringAt(payload, 'repository.owner.login') ?? fullName.split('/')[0] ?? fullName
  return {
    fullName,
    owner,
    name: stringAt(payload, 'repository.name', what),
    url: httpUrlAt(payload, 'repository.html_url', what)
  }
}

function one (ctx: Ctx, eventClass: string, timestamp: string, subjectId: string, content: Record<string, unknown>, customData?: unknown): Translation {
  // validated here too, so a payload of shapes no example showed is a 400, never an invalid event
  const event: CDEvent = validatedEvent(cdevent({ eventClass, id: ctx.id, source: ctx.repo.url, timestamp, subjectId, content, customData }), 'github')
  return { kind: 'events', events: [event] }
}

function ignored (ctx: { event: string }, action: string | undefined, why: string): Translation {
  return { kind: 'ignored', reason: `github: ${ctx.event}${action === undefined ? '' : ` ${quoted(action)}`} ${why}` }
}

function repositoryContent (repo: Repo): Record<string, unknown> {
  return { repository: { id: repo.fullName, source: repo.url } }
}

const PULL_REQUEST_ACTIONS = new Set(['opened', 'synchronize', 'edited', 'closed'])

function pullRequest (ctx: Ctx, action: string): Translation {
  if (!PULL_REQUEST_ACTIONS.has(action)) return ignored(ctx, action, 'has no mapping')
  const pr = objectAt(ctx.payload, 'pull_request', ctx.what)
  const subjectId = `${ctx.repo.fullName}/pull/${integerAt(pr, 'number', `${ctx.what}: pull_request`)}`
  const prWhat = `${ctx.what}: pull_request`
  switch (action) {
    case 'opened': {
      const title = optionalStringAt(pr, 'title')
      return one(ctx, 'change.created', timeAt(pr, ['created_at'], prWhat), subjectId,
        { ...(title === undefined ? {} : { description: title }), ...repositoryContent(ctx.repo) })
    }
    case 'synchronize':
    case 'edited':
      return one(ctx, 'change.updated', timeAt(pr, ['updated_at'], prWhat), subjectId, repositoryContent(ctx.repo))
    case 'closed':
      return pr.merged === true
        ? one(ctx, 'change.merged', timeAt(pr, ['merged_at', 'closed_at'], prWhat), subjectId, repositoryContent(ctx.repo))
        : one(ctx, 'change.abandoned', timeAt(pr, ['closed_at', 'updated_at'], prWhat), subjectId, repositoryContent(ctx.repo))
    default:
      return ignored(ctx, action, 'has no mapping')
  }
}

function pullRequestReview (ctx: Ctx, action: string): Translation {
  if (action !== 'submitted') return ignored(ctx, action, 'has no mapping')
  const number = integerAt(ctx.payload, 'pull_request.number', ctx.what)
  const review = objectAt(ctx.payload, 'review', ctx.what)
  const state = optionalStringAt(review, 'state')
  return one(ctx, 'change.reviewed', timeAt(review, ['submitted_at'], `${ctx.what}: review`), `${ctx.repo.fullName}/pull/${number}`,
    repositoryContent(ctx.repo), state === undefined ? undefined : { state })
}

function branchEvent (ctx: Ctx): Translation {
  const refType = stringAt(ctx.payload, 'ref_type', ctx.what)
  const ref = stringAt(ctx.payload, 'ref', ctx.what)
  if (refType !== 'branch') return ignored(ctx, undefined, `of a ${refType} has no mapping (only branches; releases come from the release event)`)
  const timestamp = timeAt(ctx.payload, ['repository.pushed_at', 'repository.updated_at'], ctx.what)
  return one(ctx, ctx.event === 'create' ? 'branch.created' : 'branch.deleted', timestamp, ref, repositoryContent(ctx.repo))
}

function runId (repo: Repo, id: number, attempt: number | undefined): string {
  return `${repo.fullName}/actions/runs/${id}/attempts/${attempt ?? 1}`
}

function finishedContent (conclusion: string | undefined): Record<string, unknown> {
  // a completed run without a conclusion is possible in GitHub's own examples: no outcome then
  return conclusion === undefined ? {} : { ...outcomeOf(conclusion, CONCLUSIONS, 'GitHub') }
}

const WORKFLOW_RUN_ACTIONS = new Set(['requested', 'in_progress', 'completed'])

function workflowRun (ctx: Ctx, action: string): Translation {
  if (!WORKFLOW_RUN_ACTIONS.has(action)) return ignored(ctx, action, 'has no mapping')
  const run = objectAt(ctx.payload, 'workflow_run', ctx.what)
  const runWhat = `${ctx.what}: workflow_run`
  const subjectId = runId(ctx.repo, integerAt(run, 'id', runWhat), optionalIntegerAt(run, 'run_attempt'))
  const pipelineName = optionalStringAt(run, 'name') ?? optionalStringAt(ctx.payload, 'workflow.name') ?? stringAt(run, 'path', runWhat)
  const uri = httpUrlAt(run, 'html_url', runWhat)
  const timestamp = (): string => timeAt(run, ['updated_at', 'created_at'], runWhat)
  switch (action) {
    case 'requested':
      return one(ctx, 'pipelinerun.queued', timestamp(), subjectId, { pipelineName, uri })
    case 'in_progress':
      return one(ctx, 'pipelinerun.started', timestamp(), subjectId, { pipelineName, uri })
    case 'completed':
      return one(ctx, 'pipelinerun.finished', timestamp(), subjectId,
        { pipelineName, uri, ...finishedContent(optionalStringAt(run, 'conclusion')) })
    default:
      return ignored(ctx, action, 'has no mapping')
  }
}

function workflowJob (ctx: Ctx, action: string): Translation {
  if (action !== 'in_progress' && action !== 'completed') {
    return ignored(ctx, action, 'has no mapping (taskrun has no queued event; the job is reported when it starts)')
  }
  const job = objectAt(ctx.payload, 'workflow_job', ctx.what)
  const jobWhat = `${ctx.what}: workflow_job`
  const content = {
    taskName: stringAt(job, 'name', jobWhat),
    uri: httpUrlAt(job, 'html_url', jobWhat),
    pipelineRun: { id: runId(ctx.repo, integerAt(job, 'run_id', jobWhat), optionalIntegerAt(job, 'run_attempt')), source: ctx.repo.url }
  }
  const subjectId = `${ctx.repo.fullName}/actions/jobs/${integerAt(job, 'id', jobWhat)}`
  return action === 'in_progress'
    ? one(ctx, 'taskrun.started', timeAt(job, ['started_at', 'created_at'], jobWhat), subjectId, content)
    : one(ctx, 'taskrun.finished', timeAt(job, ['completed_at', 'started_at'], jobWhat), subjectId,
      { ...content, ...finishedContent(optionalStringAt(job, 'conclusion')) })
}

function isActionsApp (check: JsonObject): boolean {
  return optionalStringAt(check, 'app.slug') === ACTIONS_APP_SLUG
}

function checkRun (ctx: Ctx, action: string): Translation {
  const check = objectAt(ctx.payload, 'check_run', ctx.what)
  if (isActionsApp(check)) return ignored(ctx, action, 'of GitHub Actions is ignored: workflow_job reports it')
  if (action !== 'created' && action !== 'completed') return ignored(ctx, action, 'has no mapping')
  const checkWhat = `${ctx.what}: check_run`
  const uri = optionalHttpUrlAt(check, 'html_url')
  const content = {
    taskName: stringAt(check, 'name', checkWhat),
    ...(uri === undefined ? {} : { uri }),
    pipelineRun: { id: `${ctx.repo.fullName}/check-suites/${integerAt(check, 'check_suite.id', checkWhat)}`, source: ctx.repo.url }
  }
  const subjectId = `${ctx.repo.fullName}/check-runs/${integerAt(check, 'id', checkWhat)}`
  return action === 'created'
    ? one(ctx, 'taskrun.started', timeAt(check, ['started_at'], checkWhat), subjectId, content)
    : one(ctx, 'taskrun.finished', timeAt(check, ['completed_at', 'started_at'], checkWhat), subjectId,
      { ...content, ...finishedContent(optionalStringAt(check, 'conclusion')) })
}

function checkSuite (ctx: Ctx, action: string): Translation {
  const suite = objectAt(ctx.payload, 'check_suite', ctx.what)
  if (isActionsApp(suite)) return ignored(ctx, action, 'of GitHub Actions is ignored: workflow_run reports it')
  if (action !== 'completed') return ignored(ctx, action, 'has no mapping')
  const suiteWhat = `${ctx.what}: check_suite`
  const pipelineName = optionalStringAt(suite, 'app.name') ?? optionalStringAt(suite, 'app.slug') ?? 'check suite'
  return one(ctx, 'pipelinerun.finished', timeAt(suite, ['updated_at', 'created_at'], suiteWhat),
    `${ctx.repo.fullName}/check-suites/${integerAt(suite, 'id', suiteWhat)}`,
    { pipelineName, ...finishedContent(optionalStringAt(suite, 'conclusion')) })
}

function release (ctx: Ctx, action: string): Translation {
  if (action !== 'published') return ignored(ctx, action, 'has no mapping (a release is an artifact when published)')
  const rel = objectAt(ctx.payload, 'release', ctx.what)
  const relWhat = `${ctx.what}: release`
  const user = optionalStringAt(rel, 'author.login') ?? optionalStringAt(ctx.payload, 'sender.login')
  return one(ctx, 'artifact.published', timeAt(rel, ['published_at', 'created_at'], relWhat),
    purl({ type: 'github', namespace: ctx.repo.owner, name: ctx.repo.name, version: stringAt(rel, 'tag_name', relWhat) }, relWhat),
    user === undefined ? {} : { user })
}

/** The Package URL of a GitHub Packages version, or undefined when purl has no name for it. */
function packagePurl (pkg: JsonObject, owner: string, what: string): string | undefined {
  const type = stringAt(pkg, 'package_type', what).toLowerCase()
  const name = stringAt(pkg, 'name', what)
  const version = stringAt(pkg, 'package_version.version', what)
  const registry = optionalHttpUrlAt(pkg, 'registry.url')
  const host = registry === undefined ? undefined : new URL(registry).host
  switch (type) {
    case 'npm':
      // GitHub's npm registry only holds packages scoped by their owner
      return name.startsWith('@')
        ? purl({ type: 'npm', namespace: name.slice(0, name.indexOf('/')), name: name.slice(name.indexOf('/') + 1), version }, what)
        : purl({ type: 'npm', namespace: `@${owner.toLowerCase()}`, name, version }, what)
    case 'maven': {
      // GitHub names a Maven package `<groupId>.<artifactId>`; artifact ids rarely contain dots,
      // and a name without a dot has no group, which a Maven Package URL requires
      const dot = name.lastIndexOf('.')
      return dot <= 0 ? undefined : purl({ type: 'maven', namespace: name.slice(0, dot), name: name.slice(dot + 1), version }, what)
    }
    case 'container':
    case 'docker':
      // the image's repository path and, as the version, its manifest digest: the same form the
      // harbor and nexus kinds give an image, so one image has one id whichever registry reports it
      return purl({ type: 'docker', namespace: owner.toLowerCase(), name: name.toLowerCase(), version, qualifiers: { repository_url: host ?? 'ghcr.io' } }, what)
    case 'rubygems':
      return purl({ type: 'gem', name, version }, what)
    case 'nuget':
      return purl({ type: 'nuget', name, version }, what)
    default:
      return undefined
  }
}

function packagePublished (ctx: Ctx, action: string): Translation {
  if (action !== 'published') return ignored(ctx, action, 'has no mapping')
  const key = ctx.event
  const pkg = objectAt(ctx.payload, key, ctx.what)
  const pkgWhat = `${ctx.what}: ${key}`
  const id = packagePurl(pkg, ctx.repo.owner, pkgWhat)
  if (id === undefined) return ignored(ctx, action,
    `of package type ${quoted(optionalStringAt(pkg, 'package_type') ?? '')} named ${quoted(optionalStringAt(pkg, 'name') ?? '')} has no Package URL`)
  const user = optionalStringAt(pkg, 'package_version.author.login') ?? optionalStringAt(ctx.payload, 'sender.login')
  const timestamp = optionalTimeAt(pkg, 'package_version.created_at') ?? optionalTimeAt(pkg, 'package_version.updated_at') ??
    timeAt(pkg, ['updated_at', 'created_at'], pkgWhat)
  const tag = optionalStringAt(pkg, 'package_version.container_metadata.tag.name')
  return one(ctx, 'artifact.published', timestamp, id, user === undefined ? {} : { user }, tag === undefined ? undefined : { tag })
}

function deploymentStatus (ctx: Ctx): Translation {
  const status = objectAt(ctx.payload, 'deployment_status', ctx.what)
  const state = stringAt(status, 'state', `${ctx.what}: deployment_status`)
  if (state !== 'success') return ignored(ctx, state, 'has no mapping (service.deployed reports successful deployments only)')
  const deployment = objectAt(ctx.payload, 'deployment', ctx.what)
  const depWhat = `${ctx.what}: deployment`
  const environment = optionalStringAt(status, 'environment') ?? stringAt(deployment, 'environment', depWhat)
  return one(ctx, 'service.deployed', timeAt(status, ['updated_at', 'created_at'], `${ctx.what}: deployment_status`), ctx.repo.fullName, {
    environment: { id: environment, source: ctx.repo.url },
    artifactId: purl({ type: 'github', namespace: ctx.repo.owner, name: ctx.repo.name, version: stringAt(deployment, 'sha', depWhat) }, depWhat)
  })
}

type Handler = (ctx: Ctx, action: string) => Translation

const HANDLERS: Readonly<Record<string, Handler>> = {
  pull_request: pullRequest,
  pull_request_review: pullRequestReview,
  create: branchEvent,
  delete: branchEvent,
  workflow_run: workflowRun,
  workflow_job: workflowJob,
  check_run: checkRun,
  check_suite: checkSuite,
  release,
  package: packagePublished,
  registry_package: packagePublished,
  deployment_status: deploymentStatus
}

/** Events whose payload has no `action`. */
const WITHOUT_ACTION = new Set(['create', 'delete', 'deployment_status'])

export const github: SourceKind<GithubSettings> = {
  name: 'github',

  parseSettings (input: unknown): GithubSettings {
    if (input === undefined || input === null) return {}
    if (!isObject(input)) throw new InvalidRequestError('github settings must be an object')
    const unknown = Object.keys(input)
    if (unknown.length > 0) throw new InvalidRequestError(`github settings: unknown setting ${quoted(unknown[0] ?? '')} (the github kind takes none)`)
    return {}
  },

  authenticate (delivery: HookDelivery, secrets: SourceSecrets): boolean {
    const signature = header(delivery, 'x-hub-signature-256')
    if (signature === undefined || !signature.startsWith(SIGNATURE_PREFIX)) return false
    return matchesHmac('sha256', signature.slice(SIGNATURE_PREFIX.length), secrets, delivery.body)
  },

  translate (delivery: HookDelivery): Translation {
    const event = header(delivery, 'x-github-event')
    if (event === undefined) throw new InvalidRequestError('github: the X-GitHub-Event header is missing')
    if (event === 'ping') return { kind: 'ignored', reason: 'github: ping' }
    const handler = Object.hasOwn(HANDLERS, event) ? HANDLERS[event] : undefined
    if (handler === undefined) return { kind: 'ignored', reason: `github: event ${quoted(event)} has no mapping` }
    const what = `github ${event}`
    const payload = rootObject(jsonBody(delivery), what)
    const action = WITHOUT_ACTION.has(event) ? '' : stringAt(payload, 'action', what)
    // read only by mapped actions, so an unmapped one is ignored whatever else the payload lacks
    let repo: Repo | undefined
    const ctx: Ctx = { event, what, id: contentHash(delivery), payload, get repo () { return (repo ??= repoOf(payload, event, what)) } }
    return handler(ctx, action)
  }
}
