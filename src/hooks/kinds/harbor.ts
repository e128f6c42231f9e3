import { PackageURL } from 'packageurl-js'
import { InvalidRequestError } from '../../errors.js'
import { cdevent, contentHash, eventId, header, jsonBody, matchesSecret } from '../common.js'
import { isRecord, optionalString, requireRecord, requireString, settingsObject, toRfc3339, urlSetting, validatedEvent } from './token-and-payload.js'
import type { CDEvent } from '../../events/types.js'
import type { HookDelivery, SourceKind, SourceSecrets, Translation } from '../types.js'

/**
 * Harbor artifact pushes. Authentication: Harbor sends the webhook policy's "Auth Header" value
 * verbatim as `Authorization`; it is compared, whole, with the secret (current or previous).
 *
 * | payload `type`                                  | CDEvent                              | fields |
 * |-------------------------------------------------|--------------------------------------|--------|
 * | `PUSH_ARTIFACT` (Harbor 2.x), `pushImage` (1.x) | artifact.published, one per `event_data.resources[]` (first MAX_RESOURCES) | subject.id = `pkg:docker/<repository.repo_full_name>@<digest>?repository_url=<registry host>` (the tag when no digest), subject.source = `settings.url`, content.user = `operator`, customData = `{ tag, resourceUrl }` |
 * | `harbor.artifact.pushed` (CloudEvents format)   | the same, from `data`                | `context.id` = the CloudEvent `id` |
 * | anything else (pull, delete, scan, quota, replication, …) | ignored                    | |
 *
 * `pkg:docker` rather than `pkg:oci`: Harbor projects are registry namespaces and consumers (deploy
 * tools, SBOMs of images) name images by their repository path, which `pkg:docker` keeps whole;
 * the digest is the version because a tag can move. The registry host comes from `resource_url`
 * (else `settings.url`): without `repository_url` a docker purl would mean Docker Hub.
 *
 * `context.id` = sha256 of the body (Harbor's default format has no delivery id), `-<n>` appended
 * per resource when there are several; `context.source` = the Harbor URL (`settings.url`,
 * required); `context.timestamp` = `occur_at` (epoch seconds) or the CloudEvent `time`.
 */

export interface HarborSettings {
  /** the Harbor base URL, e.g. `https://harbor.example.org` */
  url: string
}

/** Artifacts turned into events per delivery: one push carries one, a bound keeps a crafted one small. */
export const MAX_RESOURCES = 50

const PUSH_TYPES = new Set(['PUSH_ARTIFACT', 'pushImage', 'harbor.artifact.pushed'])

function imagePurl (repoFullName: string, version: string, registry: string): string {
  const path = repoFullName.split('/').filter(s => s !== '')
  const name = path.pop()
  if (name === undefined) throw new InvalidRequestError('harbor: "repository.repo_full_name" is empty')
  try {
    return new PackageURL('docker', path.length > 0 ? path.join('/') : undefined, name, version, { repository_url: registry }, undefined).toString()
  } catch (err) {
    throw new InvalidRequestError(`harbor: the artifact is not a valid package: ${(err as Error).message}`)
  }
}

export const harbor: SourceKind<HarborSettings> = {
  name: 'harbor',
  parseSettings (input: unknown): HarborSettings {
    const raw = settingsObject('harbor', input, ['url'])
    return { url: urlSetting('harbor', 'url', raw.url) }
  },
  authenticate (delivery: HookDelivery, secrets: SourceSecrets): boolean {
    return matchesSecret(header(delivery, 'authorization'), secrets)
  },
  translate (delivery: HookDelivery, settings: HarborSettings): Translation {
    const body = requireRecord(jsonBody(delivery), '(body)', 'harbor')
    const type = requireString(body.type, 'type', 'harbor')
    if (!PUSH_TYPES.has(type)) return { kind: 'ignored', reason: `harbor: event "${type.slice(0, 64)}" has no mapping` }
    const cloudEvent = type === 'harbor.artifact.pushed'
    const data = requireRecord(cloudEvent ? body.data : body.event_data, cloudEvent ? 'data' : 'event_data', 'harbor')
    const repository = requireRecord(data.repository, 'repository', 'harbor')
    const repoFullName = requireString(repository.repo_full_name, 'repository.repo_full_name', 'harbor')
    if (!Array.isArray(data.resources) || data.resources.length === 0) throw new InvalidRequestError('harbor: the payload has no array "resources"')
    const timestamp = cloudEvent ? toRfc3339(body.time, 'time', 'harbor') : toRfc3339(body.occur_at, 'occur_at', 'harbor', 'seconds')
    const deliveryId = cloudEvent ? requireString(body.id, 'id', 'harbor') : contentHash(delivery)
    const operator = optionalString(body.operator)
    const resources = data.resources.slice(0, MAX_RESOURCES)
    const events: CDEvent[] = resources.map((resource: unknown, i: number) => {
      if (!isRecord(resource)) throw new InvalidRequestError(`harbor: "resources[${i}]" is not an object`)
      const digest = optionalString(resource.digest)
      const tag = optionalString(resource.tag)
      const version = digest ?? tag
      if (version === undefined) throw new InvalidRequestError(`harbor: "resources[${i}]" has neither "digest" nor "tag"`)
      const resourceUrl = optionalString(resource.resource_url)
      const registry = resourceUrl?.split('/')[0] ?? new URL(settings.url).host
      const customData: Record<string, unknown> = {}
      if (tag !== undefined && tag !== digest) customData.tag = tag
      if (resourceUrl !== undefined) customData.resourceUrl = resourceUrl
      return validatedEvent(cdevent({
        eventClass: 'artifact.published',
        id: eventId(deliveryId, i, resources.length),
        source: settings.url,
        timestamp,
        subjectId: imagePurl(repoFullName, version, registry),
        subjectSource: settings.url,
        content: operator === undefined ? {} : { user: operator },
        ...(Object.keys(customData).length > 0 ? { customData } : {})
      }), 'harbor')
    })
    return { kind: 'events', events }
  }
}
