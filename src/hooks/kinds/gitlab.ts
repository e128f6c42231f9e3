import { InvalidRequestError } from '../../errors.js'
import { cdevent, contentHash, header, jsonBody, matchesSecret } from '../common.js'
import {
  integerAt, isObject, objectAt, optionalHttpUrlAt, optionalStringAt, optionalTimeAt, outcomeOf, purl,
  quoted, rootObject, stringAt, timeAt
} from './forge-payload.js'
import { validatedEvent } from './token-and-payload.js'
import type { HookDelivery, SourceKind, SourceSecrets, Translation } from '../types.js'
import type { JsonObject, Outcome } from './forge-payload.js'

/**
 * GitLab project and group webhooks (gitlab.com or self-managed). Authenticated by the plain
 * shared token GitLab sends in `X-Gitlab-Token`; the event is the payload's `object_kind`.
 * docs/hooks/gitlab.md has the same table for users.
 *
 * | GitLab hook (`object_kind`), action/status                 | CDEvent               | subject id                                 |
 * |------------------------------------------------------------|-----------------------|--------------------------------------------|
 * | merge_request, action open                                  | change.created        | `<group>/<project>/-/merge_requests/<iid>` |
 * | merge_request, action update                                | change.updated        | same                                       |
 * | merge_request, action merge                                 | change.merged         | same                                       |
 * | merge_request, action close                                 | change.abandoned      | same                                       |
 * | merge_request, action approved                              | change.reviewed       | same                                       |
 * | pipeline, status created / pending                          | pipelinerun.queued    | `<group>/<project>/-/pipelines/<id>`       |
 * | pipeline, status running                                    | pipelinerun.started   | same                                       |
 * | pipeline, status success / failed / canceled                | pipelinerun.finished  | same; outcome success / failure / cancel   |
 * | build (job), build_status running                           | taskrun.started       | `<group>/<project>/-/jobs/<build_id>`      |
 * | build (job), build_status success / failed / canceled       | taskrun.finished      | same; pipelineRun = the job's pipeline     |
 * | deployment, status success                                  | service.deployed      | `<group>/<project>`; artifactId `pkg:generic/<group>/<project>@<sha>` |
 * | release, action create                                      | artifact.published    | `pkg:generic/<group>/<project>@<tag>`      |
 *
 * Ignored, with the reason: other actions and statuses (merge_request reopen/unapproved/approval/
 * unapproval: `approved` is the review verdict; pipeline or job manual/scheduled/skipped/
 * waiting_for_resource/preparing and job created/pending: nothing ran; deployment
 * running/failed/canceled: service.deployed reports successes only; release update/delete);
 * push and tag_push hooks (they carry no time of their own to date an event by, and releases are
 * reported by the release hook); every other object_kind.
 *
 * - `context.source`: the project's `web_url`.
 * - `context.id`: GitLab's `Idempotency-Key` header (GitLab 17.4 and later; kept across retries),
 *   else the sha256 of the body. Not `X-Gitlab-Event-UUID`: GitLab gives it to every hook fired by
 *   one request (a merge fires a merge request hook and a pipeline hook with the same UUID), so it
 *   would make two different events look like one redelivery.
 * - `context.timestamp`: merge request created_at (open) or updated_at; pipeline created_at
 *   (queued, and running: the hook has no start time) or finished_at; job build_started_at or
 *   build_finished_at; deployment status_changed_at; release created_at. GitLab's
 *   `2016-08-12 15:23:28 UTC` form is normalised to RFC 3339.
 */

/** GitLab sends no settings-dependent behaviour: the kind takes none. */
export type GitlabSettings = Record<string, never>

/**
 * An `Idempotency-Key` is a UUID; anything longer or with other characters is not GitLab's, and
 * the content hash is used instead of carrying it into an event id.
 */
const IDEMPOTENCY_KEY_RE = /^[A-Za-z0-9-]{1,64}$/

const FINISHED: Readonly<Record<string, Outcome['outcome']>> = {
  success: 'success',
  failed: 'failure',
  canceled: 'cancel'
}

interface Project {
  path: string
  url: string
}

interface Ctx {
  kind: string
  what: string
  id: string
  payload: JsonObject
  project: Project
}

/** A project URL's path (`group/project`), percent-decoded when it decodes. */
function pathOf (url: string): string {
  const path = new URL(url).pathname.replace(/^\/+|\/+$/g, '')
  try {
    return decodeURIComponent(path)
  } catch {
    return path
  }
}

/** The project: `project.web_url` and `path_with_namespace`; job hooks of older GitLab only have `repository.homepage`. */
function projectOf (payload: JsonObject, what: string): Project {
  const url = optionalHttpUrlAt(payload, 'project.web_url') ?? optionalHttpUrlAt(payload, 'repository.homepage')
  if (url === undefined) throw new InvalidRequestError(`${what}: project.web_url is missing or is not an http(s) URL`)
  const path = optionalStringAt(payload, 'project.path_with_namespace') ?? pathOf(url)
  if (path === '') throw new InvalidRequestError(`${what}: project.path_with_namespace is missing`)
  return { path, url }
}

function one (ctx: Ctx, eventClass: string, timestamp: string, subjectId: string, content: Record<string, unknown>): Translation {
  // validated here too, so a payload of shapes no example showed is a 400, never an invalid event
  return { kind: 'events', events: [validatedEvent(cdevent({ eventClass, id: ctx.id, source: ctx.project.url, timestamp, subjectId, content }), 'gitlab')] }
}

function ignored (ctx: { kind: string }, detail: string, why = 'has no mapping'): Translation {
  return { kind: 'ignored', reason: `gitlab: ${ctx.kind} ${detail} ${why}` }
}

/** `<group>/<project>` as a generic Package URL's namespace and name. */
function genericPurl (project: Project, version: string, what: string): string {
  const slash = project.path.lastIndexOf('/')
  return purl({
    type: 'generic',
    ...(slash > 0 ? { namespace: project.path.slice(0, slash) } : {}),
    name: project.path.slice(slash + 1),
    version
  }, what)
}

function mergeRequest (ctx: Ctx): Translation {
  const attrs = objectAt(ctx.payload, 'object_attributes', ctx.what)
  const attrsWhat = `${ctx.what}: object_attributes`
  const action = optionalStringAt(attrs, 'action')
  if (action === undefined) return ignored(ctx, 'without an action', 'has no mapping')
  const classByAction: Record<string, string> = {
    open: 'change.created',
    update: 'change.updated',
    merge: 'change.merged',
    close: 'change.abandoned',
    approved: 'change.reviewed'
  }
  const eventClass = Object.hasOwn(classByAction, action) ? classByAction[action] : undefined
  if (eventClass === undefined) return ignored(ctx, `action ${quoted(action)}`)
  const subjectId = `${ctx.project.path}/-/merge_requests/${integerAt(attrs, 'iid', attrsWhat)}`
  const repository = { repository: { id: ctx.project.path, source: ctx.project.url } }
  const title = optionalStringAt(attrs, 'title')
  return action === 'open'
    ? one(ctx, eventClass, timeAt(attrs, ['created_at', 'updated_at'], attrsWhat), subjectId,
      { ...(title === undefined ? {} : { description: title }), ...repository })
    : one(ctx, eventClass, timeAt(attrs, ['updated_at', 'created_at'], attrsWhat), subjectId, repository)
}

function pipeline (ctx: Ctx): Translation {
  const attrs = objectAt(ctx.payload, 'object_attributes', ctx.what)
  const attrsWhat = `${ctx.what}: object_attributes`
  const status = stringAt(attrs, 'status', attrsWhat)
  const mapped = status === 'created' || status === 'pending' || status === 'running' || Object.hasOwn(FINISHED, status)
  if (!mapped) return ignored(ctx, `status ${quoted(status)}`)
  const id = integerAt(attrs, 'id', attrsWhat)
  const subjectId = `${ctx.project.path}/-/pipelines/${id}`
  const content = {
    pipelineName: optionalStringAt(attrs, 'name') ?? ctx.project.path,
    uri: optionalHttpUrlAt(attrs, 'url') ?? `${ctx.project.url}/-/pipelines/${id}`
  }
  if (status === 'created' || status === 'pending') return one(ctx, 'pipelinerun.queued', timeAt(attrs, ['created_at'], attrsWhat), subjectId, content)
  if (status === 'running') return one(ctx, 'pipelinerun.started', timeAt(attrs, ['created_at'], attrsWhat), subjectId, content)
  return one(ctx, 'pipelinerun.finished', timeAt(attrs, ['finished_at', 'created_at'], attrsWhat), subjectId,
    { ...content, ...outcomeOf(status, FINISHED, 'GitLab') })
}

function job (ctx: Ctx): Translation {
  const status = stringAt(ctx.payload, 'build_status', ctx.what)
  const finished = Object.hasOwn(FINISHED, status)
  if (status !== 'running' && !finished) return ignored(ctx, `build_status ${quoted(status)}`, 'has no mapping (taskrun reports jobs that run)')
  const buildId = integerAt(ctx.payload, 'build_id', ctx.what)
  const content: Record<string, unknown> = {
    taskName: stringAt(ctx.payload, 'build_name', ctx.what),
    uri: `${ctx.project.url}/-/jobs/${buildId}`,
    pipelineRun: { id: `${ctx.project.path}/-/pipelines/${integerAt(ctx.payload, 'pipeline_id', ctx.what)}`, source: ctx.project.url }
  }
  const subjectId = `${ctx.project.path}/-/jobs/${buildId}`
  if (!finished) {
    return one(ctx, 'taskrun.started', timeAt(ctx.payload, ['build_started_at', 'build_started_at_iso', 'build_created_at'], ctx.what), subjectId, content)
  }
  const outcome = outcomeOf(status, FINISHED, 'GitLab')
  const reason = optionalStringAt(ctx.payload, 'build_failure_reason')
  if (outcome.outcome !== 'success' && reason !== undefined && reason !== 'unknown_failure') outcome.errors = `${outcome.errors ?? ''} (${reason})`
  return one(ctx, 'taskrun.finished',
    timeAt(ctx.payload, ['build_finished_at', 'build_finished_at_iso', 'build_started_at', 'build_created_at'], ctx.what), subjectId,
    { ...content, ...outcome })
}

function deployment (ctx: Ctx): Translation {
  const status = stringAt(ctx.payload, 'status', ctx.what)
  if (status !== 'success') return ignored(ctx, `status ${quoted(status)}`, 'has no mapping (service.deployed reports successful deployments only)')
  // the full sha is the last segment of commit_url; short_sha is the fallback
  const commitUrl = optionalStringAt(ctx.payload, 'commit_url')
  const fullSha = commitUrl?.split('/').pop()
  const sha = fullSha !== undefined && /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(fullSha) ? fullSha : stringAt(ctx.payload, 'short_sha', ctx.what)
  return one(ctx, 'service.deployed', timeAt(ctx.payload, ['status_changed_at'], ctx.what), ctx.project.path, {
    environment: { id: stringAt(ctx.payload, 'environment', ctx.what), source: ctx.project.url },
    artifactId: genericPurl(ctx.project, sha, ctx.what)
  })
}

function release (ctx: Ctx): Translation {
  const action = stringAt(ctx.payload, 'action', ctx.what)
  if (action !== 'create') return ignored(ctx, `action ${quoted(action)}`, 'has no mapping (a release is published once, when created)')
  const timestamp = optionalTimeAt(ctx.payload, 'created_at') ?? timeAt(ctx.payload, ['released_at'], ctx.what)
  return one(ctx, 'artifact.published', timestamp, genericPurl(ctx.project, stringAt(ctx.payload, 'tag', ctx.what), ctx.what), {})
}

type Handler = (ctx: Ctx) => Translation

const HANDLERS: Readonly<Record<string, Handler>> = {
  merge_request: mergeRequest,
  pipeline,
  build: job,
  deployment,
  release
}

const NOT_MAPPED: Readonly<Record<string, string>> = {
  push: 'push hooks are not mapped (no time of their own to date a branch event by)',
  tag_push: 'tag push hooks are not mapped (releases are reported by the release hook)'
}

export const gitlab: SourceKind<GitlabSettings> = {
  name: 'gitlab',

  parseSettings (input: unknown): GitlabSettings {
    if (input === undefined || input === null) return {}
    if (!isObject(input)) throw new InvalidRequestError('gitlab settings must be an object')
    const keys = Object.keys(input)
    if (keys.length > 0) throw new InvalidRequestError(`gitlab settings: unknown setting ${quoted(keys[0] ?? '')} (the gitlab kind takes none)`)
    return {}
  },

  authenticate (delivery: HookDelivery, secrets: SourceSecrets): boolean {
    return matchesSecret(header(delivery, 'x-gitlab-token'), secrets)
  },

  translate (delivery: HookDelivery): Translation {
    const payload = rootObject(jsonBody(delivery), 'gitlab')
    const kind = optionalStringAt(payload, 'object_kind')
    if (kind === undefined) {
      const name = header(delivery, 'x-gitlab-event') ?? optionalStringAt(payload, 'event_name') ?? 'without object_kind'
      return { kind: 'ignored', reason: `gitlab: event ${quoted(name)} has no mapping` }
    }
    if (Object.hasOwn(NOT_MAPPED, kind)) return { kind: 'ignored', reason: `gitlab: ${NOT_MAPPED[kind] ?? ''}` }
    const handler = Object.hasOwn(HANDLERS, kind) ? HANDLERS[kind] : undefined
    if (handler === undefined) return { kind: 'ignored', reason: `gitlab: event ${quoted(kind)} has no mapping` }
    const what = `gitlab ${kind}`
    const key = header(delivery, 'idempotency-key')
    const id = key !== undefined && IDEMPOTENCY_KEY_RE.test(key) ? key : contentHash(delivery)
    // read only by mapped actions, so an unmapped one is ignored whatever else the payload lacks
    let project: Project | undefined
    return handler({ kind, what, id, payload, get project () { return (project ??= projectOf(payload, what)) } })
  }
}
