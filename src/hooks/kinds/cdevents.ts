import { InvalidRequestError } from '../../errors.js'
import { CDEVENTS_SPEC_VERSION, standardTypeOf } from '../../events/index.js'
import { header, jsonBody } from '../common.js'
import { absoluteUri, isRecord, matchesBearer, optionalString, settingsObject, toRfc3339, validatedEvent } from './token-and-payload.js'
import type { HookDelivery, SourceKind, SourceSecrets, Translation } from '../types.js'

/**
 * Older CDEvents (spec 0.3.x and 0.4.x, and the pre-0.3 CloudEvent-extension form the Jenkins
 * CDEvents plugin sends) upgraded to 0.5.1. Authentication: `Authorization: Bearer <secret>`.
 *
 * Accepted wrappings: a bare CDEvent; a structured-mode CloudEvent (`data` the CDEvent, as an
 * object, a JSON string or `data_base64`); a binary-mode CloudEvent (`ce-*` headers, the body the
 * CDEvent). The upgraded event keeps the original `context.id` and `context.source`, so it is the
 * same event (a CloudEvent's own `id`/`source` are the transport's and are not used).
 *
 * | 0.3.x / 0.4.x                               | 0.5.1                                                  |
 * |---------------------------------------------|--------------------------------------------------------|
 * | `context.version` (0.3.x, 0.4.x)            | `context.specversion: "0.5.1"`                         |
 * | `context.type` `dev.cdevents.<s>.<p>.<v>`   | the 0.5.1 type of the class (table OLDER_TYPE_VERSIONS)|
 * | `context.id`, `source`, `timestamp`         | kept (timestamp normalised to UTC if not RFC 3339)     |
 * | `context.chainId`, `links`, `schemaUri` (0.4)| kept                                                  |
 * | `subject.type` (`pipelineRun`, …)           | dropped (0.5 derives it from the type)                 |
 * | pipelineRun/taskRun/environment/repository `content.url` | `content.uri`                             |
 * | pipelinerun.finished `outcome` (free text)  | `success`/`failure`/`cancel`/`error` (OUTCOME_SYNONYMS)|
 * | testcaserun/testsuiterun.finished `outcome` `pass`/`fail` | `success`/`failure`                      |
 * | `customData`, `customDataContentType`       | kept                                                   |
 * | custom types `dev.cdeventsx.*` (0.4)        | envelope upgraded, content kept                        |
 *
 * The legacy CloudEvent-extension form (Jenkins CDEvents plugin: `type: dev.cdevents.pipelinerun.*`
 * or `taskrun.*`, the subject's facts as CloudEvent attributes, `data` the tool's own model):
 * | CloudEvent attribute     | 0.5.1                                                                 |
 * |--------------------------|-----------------------------------------------------------------------|
 * | `id`                     | `context.id` (the jenkins kind passes a content hash: the plugin repeats build numbers as ids) |
 * | `source`                 | `context.source`, resolved against the tool's URL when the kind knows it |
 * | `time`                   | `context.timestamp`                                                    |
 * | `url`                    | `content.uri` (when absolute, or resolvable) and `subject.id`; else `subject`, else `id` |
 * | `pipelinename`/`taskname`| `content.pipelineName` / `content.taskName`                            |
 * | `pipelinerun` (JSON text)| taskrun `content.pipelineRun` when it names an id                      |
 * | `outcome`, `errors`      | finished `content.outcome` (normalised), `content.errors`              |
 * | `data`                   | `customData`                                                           |
 *
 * Ignored (202): spec versions other than 0.3.x/0.4.x/0.5.x, older classes with no 0.5.1
 * equivalent, legacy-form classes other than pipelinerun/taskrun. An event already at 0.5.x is
 * passed through unchanged. An upgraded event that is not valid 0.5.1 (e.g. a 0.3 repository
 * event without `url`) is a malformed delivery (400, with the violations).
 */

export type CdeventsSettings = Record<string, never>

/**
 * The type version of every class in the 0.3.0 and 0.4.x schemas (as released in the spec and its
 * SDKs); an older event is upgraded only when its type is one of these.
 */
export const OLDER_TYPE_VERSIONS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  'artifact.packaged': ['0.1.1', '0.2.0'],
  'artifact.published': ['0.1.1', '0.2.0'],
  'artifact.signed': ['0.1.0', '0.2.0'],
  'artifact.downloaded': ['0.1.0'],
  'artifact.deleted': ['0.1.0'],
  'branch.created': ['0.1.2', '0.2.0'],
  'branch.deleted': ['0.1.2', '0.2.0'],
  'build.queued': ['0.1.1', '0.2.0'],
  'build.started': ['0.1.1', '0.2.0'],
  'build.finished': ['0.1.1', '0.2.0'],
  'change.created': ['0.1.2', '0.3.0'],
  'change.updated': ['0.1.2', '0.2.0'],
  'change.reviewed': ['0.1.2', '0.2.0'],
  'change.merged': ['0.1.2', '0.2.0'],
  'change.abandoned': ['0.1.2', '0.2.0'],
  'environment.created': ['0.1.1', '0.2.0'],
  'environment.modified': ['0.1.1', '0.2.0'],
  'environment.deleted': ['0.1.1', '0.2.0'],
  'incident.detected': ['0.1.0', '0.2.0'],
  'incident.reported': ['0.1.0', '0.2.0'],
  'incident.resolved': ['0.1.0', '0.2.0'],
  'pipelinerun.queued': ['0.1.1', '0.2.0'],
  'pipelinerun.started': ['0.1.1', '0.2.0'],
  'pipelinerun.finished': ['0.1.1', '0.2.0'],
  'repository.created': ['0.1.1', '0.2.0'],
  'repository.modified': ['0.1.1', '0.2.0'],
  'repository.deleted': ['0.1.1', '0.2.0'],
  'service.deployed': ['0.1.1', '0.2.0'],
  'service.upgraded': ['0.1.1', '0.2.0'],
  'service.rolledback': ['0.1.1', '0.2.0'],
  'service.removed': ['0.1.1', '0.2.0'],
  'service.published': ['0.1.1', '0.2.0'],
  'taskrun.started': ['0.1.1', '0.2.0'],
  'taskrun.finished': ['0.1.1', '0.2.0'],
  'testcaserun.queued': ['0.1.0', '0.2.0'],
  'testcaserun.started': ['0.1.0', '0.2.0'],
  'testcaserun.finished': ['0.1.0', '0.2.0'],
  'testcaserun.skipped': ['0.1.0'],
  'testsuiterun.queued': ['0.1.0', '0.2.0'],
  'testsuiterun.started': ['0.1.0', '0.2.0'],
  'testsuiterun.finished': ['0.1.0', '0.2.0'],
  'testoutput.published': ['0.1.0', '0.2.0'],
  'ticket.created': ['0.1.0'],
  'ticket.updated': ['0.1.0'],
  'ticket.closed': ['0.1.0']
})

/** Subjects whose content `url` became `uri` in 0.5. */
const URL_TO_URI_SUBJECTS = new Set(['pipelinerun', 'taskrun', 'environment', 'repository'])

/** Free-text outcomes seen from older emitters (lower-cased) → the 0.5.1 pipelinerun outcome. */
export const OUTCOME_SYNONYMS: Readonly<Record<string, 'success' | 'failure' | 'cancel' | 'error'>> = Object.freeze({
  success: 'success',
  succeeded: 'success',
  successful: 'success',
  pass: 'success',
  passed: 'success',
  failure: 'failure',
  failed: 'failure',
  fail: 'failure',
  unstable: 'failure',
  cancel: 'cancel',
  cancelled: 'cancel',
  canceled: 'cancel',
  aborted: 'cancel',
  not_built: 'cancel',
  error: 'error',
  errored: 'error'
})

/** The test runs' 0.3/0.4 enum (`pass`, `fail`, `cancel`, `error`) → 0.5.1. */
const TEST_OUTCOMES: Readonly<Record<string, string>> = { pass: 'success', fail: 'failure', cancel: 'cancel', error: 'error' }

const OLDER_SPEC_VERSION = /^0\.[34]\.\d+(-draft)?$/
const CURRENT_SPEC_VERSION = /^0\.5\.\d+$/
const TYPE_RE = /^dev\.cdevents\.([a-z]+)\.([a-z]+)\.(\d+\.\d+\.\d+(?:-draft)?)$/
const CUSTOM_TYPE_RE = /^dev\.cdeventsx\./
/** Optional 0.4 context attributes that 0.5.1 still has. */
const CONTEXT_KEPT = ['chainId', 'links', 'schemaUri'] as const
/** Legacy-form classes the Jenkins CDEvents plugin documents. */
const LEGACY_CLASSES = new Set(['pipelinerun.queued', 'pipelinerun.started', 'pipelinerun.finished', 'taskrun.started', 'taskrun.finished'])

export interface UpgradeOptions {
  /** the kind reporting (for messages): `cdevents` or `jenkins` */
  kind: string
  /** the tool's URL, to resolve the relative `source`/`url` of the legacy form */
  base?: string
  /** the id for legacy-form events, when the tool's own ids are not unique */
  legacyId?: string
}

/** Whether a parsed body looks like a CloudEvent (structured mode). */
export function isCloudEvent (body: unknown): boolean {
  return isRecord(body) && typeof body.specversion === 'string' && typeof body.type === 'string' && !isRecord(body.context)
}

/** The CDEvent an older delivery carries, upgraded to 0.5.1 (or why none). */
export function upgradeDelivery (delivery: HookDelivery, options: UpgradeOptions): Translation {
  if (header(delivery, 'ce-specversion') !== undefined) {
    // binary mode: the body is the CDEvent, the ce-* headers are the transport's
    return upgradeCDEvent(jsonBody(delivery), options)
  }
  return upgradeBody(jsonBody(delivery), options)
}

/** The same, from an already-parsed body. */
export function upgradeBody (body: unknown, options: UpgradeOptions): Translation {
  if (isRecord(body) && isCloudEvent(body)) {
    const data = cloudEventData(body)
    if (isRecord(data) && isRecord(data.context)) return upgradeCDEvent(data, options)
    return upgradeLegacy(body, options)
  }
  return upgradeCDEvent(body, options)
}

function cloudEventData (ce: Record<string, unknown>): unknown {
  if (typeof ce.data_base64 === 'string') return parseJsonText(Buffer.from(ce.data_base64, 'base64').toString('utf8'))
  if (typeof ce.data === 'string') return parseJsonText(ce.data)
  return ce.data
}

function parseJsonText (text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    // not JSON text: not a CDEvent either; the legacy form keeps it as opaque data
    return text
  }
}

/** A bare 0.3.x/0.4.x (or 0.5.x) CDEvent → 0.5.1. */
export function upgradeCDEvent (event: unknown, options: UpgradeOptions): Translation {
  const { kind } = options
  if (!isRecord(event) || !isRecord(event.context) || !isRecord(event.subject)) {
    throw new InvalidRequestError(`${kind}: the body is not a CDEvent (no "context" and "subject" objects)`)
  }
  const context = event.context
  const subject = event.subject
  if (typeof context.specversion === 'string' && CURRENT_SPEC_VERSION.test(context.specversion)) {
    // already current: passed through as it is, validated like any other
    return { kind: 'events', events: [validatedEvent(event, kind)] }
  }
  const version = context.version ?? context.specversion
  if (typeof version !== 'string') throw new InvalidRequestError(`${kind}: the payload has no string "context.version"`)
  if (!OLDER_SPEC_VERSION.test(version)) return { kind: 'ignored', reason: `${kind}: CDEvents spec version "${version.slice(0, 32)}" is not upgraded (0.3.x and 0.4.x are)` }
  if (typeof context.type !== 'string') throw new InvalidRequestError(`${kind}: the payload has no string "context.type"`)

  let type: string
  let eventClass: string | undefined
  if (CUSTOM_TYPE_RE.test(context.type)) {
    type = context.type
  } else {
    const m = TYPE_RE.exec(context.type)
    if (m === null) throw new InvalidRequestError(`${kind}: "context.type" is not a CDEvents type: ${context.type.slice(0, 128)}`)
    eventClass = `${m[1]!}.${m[2]!}`
    const known = OLDER_TYPE_VERSIONS[eventClass]
    const current = standardTypeOf(eventClass)
    if (known === undefined || current === undefined) return { kind: 'ignored', reason: `${kind}: ${eventClass} has no CDEvents 0.5.1 equivalent` }
    if (!known.includes(m[3]!)) return { kind: 'ignored', reason: `${kind}: ${eventClass} version ${m[3]!} is not a 0.3/0.4 version of it (${known.join(', ')})` }
    type = current
  }

  const upgradedContext: Record<string, unknown> = {
    specversion: CDEVENTS_SPEC_VERSION,
    id: context.id,
    source: context.source,
    type,
    timestamp: normalisedTime(context.timestamp, 'context.timestamp', kind)
  }
  // the 0.4 additions that 0.5.1 kept; anything else an older emitter added is dropped
  for (const key of CONTEXT_KEPT) if (context[key] !== undefined) upgradedContext[key] = context[key]

  const content = isRecord(subject.content) ? upgradeContent(eventClass, subject.content, kind) : subject.content
  const upgradedSubject: Record<string, unknown> = { id: subject.id }
  if (subject.source !== undefined) upgradedSubject.source = subject.source
  upgradedSubject.content = content

  const upgraded: Record<string, unknown> = { context: upgradedContext, subject: upgradedSubject }
  if (event.customData !== undefined) upgraded.customData = event.customData
  if (event.customDataContentType !== undefined) upgraded.customDataContentType = event.customDataContentType
  return { kind: 'events', events: [validatedEvent(upgraded, kind)] }
}

function upgradeContent (eventClass: string | undefined, content: Record<string, unknown>, kind: string): Record<string, unknown> {
  if (eventClass === undefined) return content
  const out: Record<string, unknown> = { ...content }
  const subject = eventClass.split('.')[0]!
  if (URL_TO_URI_SUBJECTS.has(subject) && 'url' in out) {
    if (!('uri' in out)) out.uri = out.url
    delete out.url
  }
  if (eventClass === 'pipelinerun.finished' && out.outcome !== undefined) out.outcome = pipelineOutcome(out.outcome, kind)
  if ((eventClass === 'testcaserun.finished' || eventClass === 'testsuiterun.finished') && typeof out.outcome === 'string') {
    out.outcome = TEST_OUTCOMES[out.outcome] ?? out.outcome
  }
  return out
}

/** A free-text outcome as the 0.5.1 pipelinerun enum; an unknown value is a malformed payload. */
export function pipelineOutcome (value: unknown, kind: string): string {
  const mapped = typeof value === 'string' ? OUTCOME_SYNONYMS[value.toLowerCase()] : undefined
  if (mapped === undefined) throw new InvalidRequestError(`${kind}: "subject.content.outcome" ${JSON.stringify(value)?.slice(0, 64)} is not an outcome (${Object.keys(OUTCOME_SYNONYMS).join(', ')})`)
  return mapped
}

function normalisedTime (value: unknown, path: string, kind: string): string {
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value)) return value
  return toRfc3339(value, path, kind)
}

/** The CloudEvent-extension form of the Jenkins CDEvents plugin → 0.5.1. */
function upgradeLegacy (ce: Record<string, unknown>, options: UpgradeOptions): Translation {
  const { kind, base } = options
  const type = ce.type as string
  const m = TYPE_RE.exec(type)
  if (m === null) return { kind: 'ignored', reason: `${kind}: CloudEvent type "${type.slice(0, 128)}" is not a CDEvent` }
  const eventClass = `${m[1]!}.${m[2]!}`
  if (!LEGACY_CLASSES.has(eventClass)) return { kind: 'ignored', reason: `${kind}: ${eventClass} in the CloudEvent-extension form has no mapping` }
  const id = options.legacyId ?? optionalString(ce.id)
  if (id === undefined) throw new InvalidRequestError(`${kind}: the payload has no string "id"`)
  const rawSource = optionalString(ce.source)
  if (rawSource === undefined) throw new InvalidRequestError(`${kind}: the payload has no string "source"`)
  const source = absoluteUri(rawSource, base) ?? rawSource
  const timestamp = normalisedTime(ce.time, 'time', kind)
  const uri = absoluteUri(optionalString(ce.url), base)
  const subjectId = uri ?? optionalString(ce.subject) ?? id

  const content: Record<string, unknown> = {}
  if (eventClass.startsWith('pipelinerun.')) {
    if (optionalString(ce.pipelinename) !== undefined) content.pipelineName = ce.pipelinename
  } else {
    if (optionalString(ce.taskname) !== undefined) content.taskName = ce.taskname
    const pipelineRun = typeof ce.pipelinerun === 'string' ? parseJsonText(ce.pipelinerun) : ce.pipelinerun
    if (isRecord(pipelineRun) && optionalString(pipelineRun.id) !== undefined) {
      content.pipelineRun = optionalString(pipelineRun.source) === undefined ? { id: pipelineRun.id } : { id: pipelineRun.id, source: pipelineRun.source }
    }
  }
  if (uri !== undefined) content.uri = uri
  if (eventClass.endsWith('.finished')) {
    if (optionalString(ce.outcome) !== undefined) content.outcome = eventClass === 'pipelinerun.finished' ? pipelineOutcome(ce.outcome, kind) : ce.outcome
    if (optionalString(ce.errors) !== undefined) content.errors = ce.errors
  }
  const event: Record<string, unknown> = {
    context: { specversion: CDEVENTS_SPEC_VERSION, id, source, type: standardTypeOf(eventClass), timestamp },
    subject: { id: subjectId, content }
  }
  if (isRecord(ce.data)) {
    event.customData = ce.data
    event.customDataContentType = 'application/json'
  }
  return { kind: 'events', events: [validatedEvent(event, kind)] }
}

export const cdevents: SourceKind<CdeventsSettings> = {
  name: 'cdevents',
  parseSettings (input: unknown): CdeventsSettings {
    settingsObject('cdevents', input, [])
    return {}
  },
  authenticate (delivery: HookDelivery, secrets: SourceSecrets): boolean {
    return matchesBearer(delivery, secrets)
  },
  translate (delivery: HookDelivery): Translation {
    return upgradeDelivery(delivery, { kind: 'cdevents' })
  }
}
