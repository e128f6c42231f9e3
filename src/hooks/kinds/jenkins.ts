import { PackageURL } from 'packageurl-js'
import { InvalidRequestError } from '../../errors.js'
import { cdevent, contentHash, eventId, jsonBody } from '../common.js'
import { isCloudEvent, upgradeBody } from './cdevents.js'
import {
  absoluteUri, isRecord, matchesTokenOrBasic, optionalString, requireRecord, requireString, settingsObject, toRfc3339, urlSetting, userSetting, validatedEvent
} from './token-and-payload.js'
import type { CDEvent } from '../../events/types.js'
import type { HookDelivery, SourceKind, SourceSecrets, Translation } from '../types.js'

/**
 * Jenkins. Jenkins does not sign its notifications: the endpoint URL carries a token, sent as
 * `Authorization: Bearer <secret>`, or as basic credentials (`https://user:<secret>@…` in the
 * endpoint URL) whose password is the secret (and whose user must be `settings.user` when set).
 *
 * Two payload formats, told apart by shape:
 *
 * 1. The Notification plugin's job events (`{name, url, build: {full_url, number, phase, status,
 *    scm, artifacts}}`). `context.id` = sha256 of the body (the plugin sends no delivery id),
 *    `-<n>` appended when one delivery yields several events. `context.source` = the Jenkins root
 *    URL (`settings.url`, else `build.full_url` up to its first `/job/`).
 *
 * | phase     | CDEvent                     | fields                                                                                   |
 * |-----------|-----------------------------|------------------------------------------------------------------------------------------|
 * | QUEUED    | pipelinerun.queued          | subject.id = build URL (`build.full_url`), pipelineName = `name`, uri = build URL         |
 * | STARTED   | pipelinerun.started         | same                                                                                     |
 * | COMPLETED | ignored                     | post-build steps may still change the result: the final one comes with FINALIZED          |
 * | FINALIZED | pipelinerun.finished        | same + outcome from `build.status` (SUCCESS→success, UNSTABLE/FAILURE→failure, ABORTED/NOT_BUILT→cancel, other→error), errors = `Jenkins result <status>` when not SUCCESS |
 * | FINALIZED | artifact.published, one per archived artifact (first MAX_ARTIFACTS) | subject.id = `pkg:generic/<job name>/<file>@<build number>?download_url=<archive URL>`, content.user absent |
 *
 * `context.timestamp`: `build.timestamp` (the build's start, which current plugin versions send
 * as `2024-05-02T09:14:07.5+00:00`) + `build.duration` (ms) for FINALIZED; the payload of older
 * versions (the README example) has no time at all, and then the Unix epoch is used so a
 * redelivery stays identical (translations never read the clock).
 * `customData`: `{ number, phase, status?, scm? }` on the pipelinerun events.
 *
 * 2. The Jenkins CDEvents plugin's events: CloudEvents whose type is a `dev.cdevents.*` type, in
 *    the pre-0.3 CloudEvent-extension form or with an older CDEvent as `data`: upgraded by the
 *    cdevents kind's mapping (see cdevents.ts), relative `source`/`url` resolved against the Jenkins
 *    root URL, and, for the extension form, `context.id` = sha256 of the body (the plugin uses the
 *    build number as the id of every event of a build).
 */

export interface JenkinsSettings {
  /** the Jenkins root URL (e.g. `https://ci.example.org/jenkins`); derived from the build URL when absent */
  url?: string
  /** the basic-auth user expected along with the secret, when the endpoint uses basic credentials */
  user?: string
}

/** Archived artifacts turned into events per delivery: keeps one delivery's output bounded. */
export const MAX_ARTIFACTS = 50

/** The Unix epoch: the time used when the payload carries none (see the table). */
const NO_TIME = '1970-01-01T00:00:00.000Z'

const OUTCOMES: Readonly<Record<string, 'success' | 'failure' | 'cancel'>> = {
  SUCCESS: 'success',
  UNSTABLE: 'failure',
  FAILURE: 'failure',
  ABORTED: 'cancel',
  NOT_BUILT: 'cancel'
}

/** The Jenkins root of a build or job URL: everything before its first `/job/` segment. */
export function jenkinsRoot (url: string): string | undefined {
  const absolute = absoluteUri(url)
  if (absolute === undefined) return undefined
  const at = absolute.indexOf('/job/')
  return at < 0 ? undefined : absolute.slice(0, at)
}

function notificationEvents (body: Record<string, unknown>, delivery: HookDelivery, settings: JenkinsSettings): Translation {
  const build = requireRecord(body.build, 'build', 'jenkins')
  const phase = requireString(build.phase, 'build.phase', 'jenkins')
  if (phase === 'COMPLETED') return { kind: 'ignored', reason: 'jenkins: phase COMPLETED is not mapped: the final result is sent with FINALIZED' }
  if (phase !== 'QUEUED' && phase !== 'STARTED' && phase !== 'FINALIZED') return { kind: 'ignored', reason: `jenkins: phase "${phase.slice(0, 32)}" has no mapping` }
  const name = requireString(body.name, 'name', 'jenkins')
  if (typeof build.number !== 'number' || !Number.isSafeInteger(build.number)) throw new InvalidRequestError('jenkins: the payload has no integer "build.number"')
  const fullUrl = absoluteUri(requireString(build.full_url, 'build.full_url', 'jenkins'))
  if (fullUrl === undefined) throw new InvalidRequestError('jenkins: "build.full_url" is not an absolute URL')
  const root = settings.url ?? jenkinsRoot(fullUrl)
  if (root === undefined) throw new InvalidRequestError('jenkins: no Jenkins URL: set the source\'s "url" setting (the build URL has no /job/ segment)')

  let timestamp = NO_TIME
  if (build.timestamp !== undefined) {
    // the build's start (`yyyy-MM-dd'T'HH:mm:ss.S+00:00`); FINALIZED adds the build's duration (ms)
    const start = Date.parse(toRfc3339(build.timestamp, 'build.timestamp', 'jenkins'))
    const duration = phase === 'FINALIZED' && typeof build.duration === 'number' && Number.isSafeInteger(build.duration) && build.duration > 0 ? build.duration : 0
    timestamp = toRfc3339(start + duration, 'build.duration', 'jenkins')
  }

  const deliveryId = contentHash(delivery)
  const status = optionalString(build.status)
  const customData: Record<string, unknown> = { number: build.number, phase }
  if (status !== undefined) customData.status = status
  if (isRecord(build.scm)) customData.scm = build.scm

  const content: Record<string, unknown> = { pipelineName: name, uri: fullUrl }
  const events: Array<Omit<Parameters<typeof cdevent>[0], 'id'>> = []
  if (phase === 'FINALIZED') {
    if (status !== undefined) {
      content.outcome = OUTCOMES[status] ?? 'error'
      if (status !== 'SUCCESS') content.errors = `Jenkins result ${status}`
    }
    events.push({ eventClass: 'pipelinerun.finished', source: root, timestamp, subjectId: fullUrl, subjectSource: root, content, customData })
    for (const [file, artifact] of Object.entries(isRecord(build.artifacts) ? build.artifacts : {}).slice(0, MAX_ARTIFACTS)) {
      const archive = isRecord(artifact) ? absoluteUri(optionalString(artifact.archive)) : undefined
      const purl = new PackageURL('generic', name, file, String(build.number), archive === undefined ? undefined : { download_url: archive }, undefined)
      events.push({ eventClass: 'artifact.published', source: root, timestamp, subjectId: purl.toString(), subjectSource: root, content: {} })
    }
  } else {
    events.push({ eventClass: phase === 'QUEUED' ? 'pipelinerun.queued' : 'pipelinerun.started', source: root, timestamp, subjectId: fullUrl, subjectSource: root, content, customData })
  }
  const built: CDEvent[] = events.map((e, i) => validatedEvent(cdevent({ ...e, id: eventId(deliveryId, i, events.length) }), 'jenkins'))
  return { kind: 'events', events: built }
}

/** The Jenkins root for the CDEvents plugin's events: the setting, else from the build model in `data`. */
function pluginRoot (body: Record<string, unknown>, settings: JenkinsSettings): string | undefined {
  if (settings.url !== undefined) return settings.url
  const data = isRecord(body.data) ? body.data : {}
  const build = isRecord(data.build) ? data.build : {}
  for (const candidate of [build.fullUrl, data.url]) {
    const root = typeof candidate === 'string' ? jenkinsRoot(candidate) : undefined
    if (root !== undefined) return root
  }
  return undefined
}

export const jenkins: SourceKind<JenkinsSettings> = {
  name: 'jenkins',
  parseSettings (input: unknown): JenkinsSettings {
    const raw = settingsObject('jenkins', input, ['url', 'user'])
    const settings: JenkinsSettings = {}
    if (raw.url !== undefined) settings.url = urlSetting('jenkins', 'url', raw.url)
    if (raw.user !== undefined) settings.user = userSetting('jenkins', raw.user)
    return settings
  },
  authenticate (delivery: HookDelivery, secrets: SourceSecrets, settings: JenkinsSettings): boolean {
    return matchesTokenOrBasic(delivery, secrets, settings.user)
  },
  translate (delivery: HookDelivery, settings: JenkinsSettings): Translation {
    const body = jsonBody(delivery)
    if (!isRecord(body)) throw new InvalidRequestError('jenkins: the body is not a JSON object')
    if (isCloudEvent(body) || isRecord(body.context)) {
      const base = pluginRoot(body, settings)
      return upgradeBody(body, { kind: 'jenkins', ...(base === undefined ? {} : { base }), legacyId: contentHash(delivery) })
    }
    return notificationEvents(body, delivery, settings)
  }
}
