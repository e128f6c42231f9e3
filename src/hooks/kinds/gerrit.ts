import { InvalidRequestError } from '../../errors.js'
import { cdevent, contentHash, jsonBody } from '../common.js'
import { integerAt, isHttpUrl, isObject, objectAt, optionalStringAt, quoted, rootObject, stringAt, timeAt } from './forge-payload.js'
import { matchesTokenOrBasic, urlSetting, userSetting, validatedEvent } from './token-and-payload.js'
import type { HookDelivery, SourceKind, SourceSecrets, Translation } from '../types.js'
import type { JsonObject } from './forge-payload.js'

/**
 * Gerrit events as the webhooks plugin posts them (the JSON of `gerrit stream-events`, one event
 * per request). Gerrit does not sign them: the remote's configured header carries the secret,
 * `header = Authorization:Bearer <secret>` in webhooks.config, or Basic credentials whose password
 * is the source's secret (and whose user is the `user` setting when set) from a proxy or relay. docs/hooks/gerrit.md has the
 * same table for users.
 *
 * | Gerrit event (`type`)                                     | CDEvent          | subject id                          |
 * |-----------------------------------------------------------|------------------|-------------------------------------|
 * | patchset-created, patchSet.number 1                        | change.created   | `<project>~<branch>~<Change-Id>`    |
 * | patchset-created, later patch sets                         | change.updated   | same                                |
 * | comment-added with a vote change (an approval's oldValue)  | change.reviewed  | same (customData.approvals: the changed votes) |
 * | change-merged                                              | change.merged    | same                                |
 * | change-abandoned                                           | change.abandoned | same                                |
 * | ref-updated of `refs/heads/*`, oldRev all zeros            | branch.created   | the branch name                     |
 * | ref-updated of `refs/heads/*`, newRev all zeros            | branch.deleted   | same                                |
 *
 * The subject id is Gerrit's own unique change id, the `project~branch~Change-Id` triplet: a
 * Change-Id alone is shared by the cherry-picks of one change to other branches.
 * `subject.content.repository` is `{ id: <project>, source: <server URL> }`.
 *
 * Ignored, with the reason: comment-added without a vote change (since Gerrit 2.13 every comment
 * lists the author's current votes; only changed ones carry `oldValue`); ref-updated of
 * `refs/changes/*` (including the `refs/changes/* /meta` update that follows every change event),
 * `refs/meta/*`, `refs/tags/*` and other non-branch refs, and ordinary pushes to a branch (neither
 * rev zero); every other event type (change-restored, reviewer-added, topic-changed, …).
 *
 * - `context.source`: the Gerrit server's URL: the `url` setting, else derived from `change.url`
 *   (what precedes `/c/`, or the URL without its trailing change number). ref-updated carries no
 *   change URL, so branch events need the `url` setting.
 * - `context.id`: the sha256 of the body (Gerrit sends no delivery id; each event's JSON carries
 *   its own `eventCreatedOn`, so two events never share a body).
 * - `context.timestamp`: `eventCreatedOn` (epoch seconds), else the patch set's `createdOn`.
 */

export interface GerritSettings {
  /** the server's URL, e.g. `https://review.example.org`; no trailing slash */
  url?: string
  /** the Basic user expected along with the secret, when the sender uses Basic credentials */
  user?: string
}

/** A change carries a handful of labels; a longer approvals list is not read past this. */
const MAX_APPROVALS = 32

/** The all-zeros object id Git uses for "no ref": 40 hex digits (SHA-1) or 64 (SHA-256 repositories). */
const ZERO_REV_RE = /^0{40}(0{24})?$/

/** Ref namespaces that are never branches. */
const NON_BRANCH_PREFIXES = ['refs/changes/', 'refs/meta/', 'refs/tags/', 'refs/users/', 'refs/groups/', 'refs/sequences/', 'refs/cache-automerge/', 'refs/draft-comments/', 'refs/starred-changes/']

interface Ctx {
  type: string
  what: string
  id: string
  payload: JsonObject
  settings: GerritSettings
}

function ignored (detail: string): Translation {
  return { kind: 'ignored', reason: `gerrit: ${detail}` }
}

/** The server's URL from a change URL: `https://host/c/project/+/123` or `https://host/123`. */
function serverUrlOf (changeUrl: string): string | undefined {
  if (!isHttpUrl(changeUrl)) return undefined
  const url = new URL(changeUrl)
  const at = url.pathname.indexOf('/c/')
  const path = at >= 0 ? url.pathname.slice(0, at) : url.pathname.replace(/\/\d+\/?$/, '')
  return `${url.origin}${path.replace(/\/+$/, '')}`
}

function sourceOf (ctx: Ctx): string {
  if (ctx.settings.url !== undefined) return ctx.settings.url
  const derived = serverUrlOf(optionalStringAt(ctx.payload, 'change.url') ?? '')
  if (derived === undefined) {
    throw new InvalidRequestError(`${ctx.what}: change.url is missing, and the source has no url setting to name the Gerrit server`)
  }
  return derived
}

function eventTime (ctx: Ctx): string {
  return timeAt(ctx.payload, ['eventCreatedOn', 'patchSet.createdOn'], ctx.what)
}

function changeEvent (ctx: Ctx, eventClass: string, extra: Record<string, unknown> = {}, customData?: unknown): Translation {
  const change = objectAt(ctx.payload, 'change', ctx.what)
  const changeWhat = `${ctx.what}: change`
  const project = stringAt(change, 'project', changeWhat)
  const source = sourceOf(ctx)
  const subjectId = `${project}~${stringAt(change, 'branch', changeWhat)}~${stringAt(change, 'id', changeWhat)}`
  return {
    kind: 'events',
    events: [validatedEvent(cdevent({
      eventClass, id: ctx.id, source, timestamp: eventTime(ctx), subjectId,
      content: { ...extra, repository: { id: project, source } }, customData
    }), 'gerrit')]
  }
}

function patchsetCreated (ctx: Ctx): Translation {
  const number = integerAt(ctx.payload, 'patchSet.number', ctx.what)
  if (number <= 1) {
    const subject = optionalStringAt(ctx.payload, 'change.subject')
    return changeEvent(ctx, 'change.created', subject === undefined ? {} : { description: subject })
  }
  return changeEvent(ctx, 'change.updated')
}

function commentAdded (ctx: Ctx): Translation {
  const approvals = ctx.payload.approvals
  const votes: Array<{ type: string, value: string, oldValue: string }> = []
  if (Array.isArray(approvals)) {
    for (const approval of approvals.slice(0, MAX_APPROVALS)) {
      if (!isObject(approval) || approval.oldValue === undefined) continue
      const type = optionalStringAt(approval, 'type')
      if (type === undefined) continue
      votes.push({ type, value: String(approval.value), oldValue: String(approval.oldValue) })
    }
  }
  if (votes.length === 0) return ignored('comment-added without a vote change has no mapping')
  return changeEvent(ctx, 'change.reviewed', {}, { approvals: votes })
}

function refUpdated (ctx: Ctx): Translation {
  const update = objectAt(ctx.payload, 'refUpdate', ctx.what)
  const updateWhat = `${ctx.what}: refUpdate`
  const refName = stringAt(update, 'refName', updateWhat)
  if (NON_BRANCH_PREFIXES.some(prefix => refName.startsWith(prefix)) || (refName.startsWith('refs/') && !refName.startsWith('refs/heads/'))) {
    return ignored(`ref-updated of ${quoted(refName)} has no mapping (not a branch)`)
  }
  // Gerrit before 2.x sent branch names without refs/heads/
  const branch = refName.startsWith('refs/heads/') ? refName.slice('refs/heads/'.length) : refName
  const oldRev = stringAt(update, 'oldRev', updateWhat)
  const newRev = stringAt(update, 'newRev', updateWhat)
  const eventClass = ZERO_REV_RE.test(oldRev) ? 'branch.created' : ZERO_REV_RE.test(newRev) ? 'branch.deleted' : undefined
  if (eventClass === undefined) return ignored(`ref-updated of ${quoted(branch)} is a push to an existing branch and has no mapping`)
  const project = stringAt(update, 'project', updateWhat)
  const source = sourceOf(ctx)
  return {
    kind: 'events',
    events: [validatedEvent(cdevent({ eventClass, id: ctx.id, source, timestamp: eventTime(ctx), subjectId: branch, content: { repository: { id: project, source } } }), 'gerrit')]
  }
}

type Handler = (ctx: Ctx) => Translation

const HANDLERS: Readonly<Record<string, Handler>> = {
  'patchset-created': patchsetCreated,
  'comment-added': commentAdded,
  'change-merged': ctx => changeEvent(ctx, 'change.merged'),
  'change-abandoned': ctx => changeEvent(ctx, 'change.abandoned'),
  'ref-updated': refUpdated
}


export const gerrit: SourceKind<GerritSettings> = {
  name: 'gerrit',

  parseSettings (input: unknown): GerritSettings {
    if (input === undefined || input === null) return {}
    if (!isObject(input)) throw new InvalidRequestError('gerrit settings must be an object')
    for (const key of Object.keys(input)) {
      if (key !== 'url' && key !== 'user') throw new InvalidRequestError(`gerrit settings: unknown setting ${quoted(key)} (known: url, user)`)
    }
    const settings: GerritSettings = {}
    // checked as the other kinds check a tool's URL: http(s), no credentials (it becomes every event's source)
    if (input.url !== undefined) settings.url = urlSetting('gerrit', 'url', input.url)
    if (input.user !== undefined) settings.user = userSetting('gerrit', input.user)
    return settings
  },

  authenticate (delivery: HookDelivery, secrets: SourceSecrets, settings: GerritSettings): boolean {
    // as the jenkins kind reads it: a Bearer token, or Basic credentials whose password is the secret
    return matchesTokenOrBasic(delivery, secrets, settings.user)
  },

  translate (delivery: HookDelivery, settings: GerritSettings): Translation {
    const payload = rootObject(jsonBody(delivery), 'gerrit')
    const type = stringAt(payload, 'type', 'gerrit')
    const handler = Object.hasOwn(HANDLERS, type) ? HANDLERS[type] : undefined
    if (handler === undefined) return ignored(`event ${quoted(type)} has no mapping`)
    return handler({ type, what: `gerrit ${type}`, id: contentHash(delivery), payload, settings })
  }
}
