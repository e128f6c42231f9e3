import { PackageURL } from 'packageurl-js'
import { InvalidRequestError } from '../../errors.js'
import { cdevent, contentHash, header, jsonBody, matchesHmac } from '../common.js'
import { optionalString, requireRecord, requireString, settingsObject, toRfc3339, urlSetting, validatedEvent } from './token-and-payload.js'
import type { HookDelivery, SourceKind, SourceSecrets, Translation } from '../types.js'

/**
 * Sonatype Nexus Repository 3, repository component webhooks. Authentication:
 * `X-Nexus-Webhook-Signature`, the lower-case hex HMAC-SHA1 of the raw body under the webhook's
 * secret key (current or, during a rotation, previous secret).
 *
 * | `X-Nexus-Webhook-Id`      | `action`  | CDEvent            | fields                                                   |
 * |---------------------------|-----------|--------------------|----------------------------------------------------------|
 * | `rm:repository:component` | `CREATED` | artifact.published | subject.id = Package URL of `component` (below), subject.source = `<url>/repository/<repositoryName>`, content.user = `initiator` up to its `/<ip>` |
 * | `rm:repository:component` | other (`UPDATED`, `DELETED`) | ignored | an update is not a publication; deletions are not mapped yet |
 * | any other (`rm:repository:asset`, audit, …) | | ignored | assets are the files of a component: mapping both would publish twice |
 *
 * Package URL by `component.format`: maven2 → `pkg:maven/<group>/<name>@<version>`, npm →
 * `pkg:npm/<group>/<name>@<version>` (the scope, `@` encoded), docker → `pkg:docker/<name>@<version>`,
 * pypi → `pkg:pypi/<name>@<version>` (normalised by the purl rules), nuget → `pkg:nuget/<name>@<version>`,
 * rubygems → `pkg:gem/<name>@<version>`, raw → `pkg:generic/<group>/<name>[@<version>]`; other
 * formats are ignored. A component of these formats without `name` (or `version`, except raw) is
 * malformed (400).
 *
 * `context.id` = `X-Nexus-Webhook-Delivery` (else sha256 of the body), `context.source` = the Nexus
 * base URL (`settings.url`, required: the payload does not carry it), `context.timestamp` =
 * `timestamp` (Nexus writes `+0000` offsets: normalised to RFC 3339 UTC).
 */

export interface NexusSettings {
  /** the Nexus base URL, e.g. `https://nexus.example.org` */
  url: string
}

const COMPONENT_EVENT = 'rm:repository:component'

/** Nexus component formats → purl types. */
const PURL_TYPES: Readonly<Record<string, string>> = {
  maven2: 'maven',
  npm: 'npm',
  docker: 'docker',
  pypi: 'pypi',
  nuget: 'nuget',
  rubygems: 'gem',
  raw: 'generic'
}

function componentPurl (component: Record<string, unknown>, format: string): string {
  const type = PURL_TYPES[format]!
  const name = requireString(component.name, 'component.name', 'nexus')
  const version = optionalString(component.version)
  if (version === undefined && type !== 'generic') throw new InvalidRequestError('nexus: the payload has no string "component.version"')
  let namespace = optionalString(component.group)
  let purlName = name
  if (type === 'generic') {
    // raw components are paths (`name` the whole path, `group` its directory): the directory is
    // the namespace, the file the name
    const path = (name.includes('/') ? name : `${namespace ?? ''}/${name}`).split('/').filter(s => s !== '')
    purlName = path.pop() ?? name
    namespace = path.length > 0 ? path.join('/') : undefined
  } else if (type === 'docker') {
    // an image name is a path (`library/alpine`): its last segment is the purl name
    const path = name.split('/').filter(s => s !== '')
    purlName = path.pop() ?? name
    namespace = path.length > 0 ? path.join('/') : undefined
  } else if (type === 'npm' && namespace !== undefined && !namespace.startsWith('@')) {
    namespace = `@${namespace}`
  } else if (type !== 'maven' && type !== 'npm') {
    namespace = undefined
  }
  try {
    return new PackageURL(type, namespace, purlName, version, undefined, undefined).toString()
  } catch (err) {
    throw new InvalidRequestError(`nexus: the component is not a valid package: ${(err as Error).message}`)
  }
}

export const nexus: SourceKind<NexusSettings> = {
  name: 'nexus',
  parseSettings (input: unknown): NexusSettings {
    const raw = settingsObject('nexus', input, ['url'])
    return { url: urlSetting('nexus', 'url', raw.url) }
  },
  authenticate (delivery: HookDelivery, secrets: SourceSecrets): boolean {
    return matchesHmac('sha1', header(delivery, 'x-nexus-webhook-signature'), secrets, delivery.body)
  },
  translate (delivery: HookDelivery, settings: NexusSettings): Translation {
    const event = header(delivery, 'x-nexus-webhook-id')
    if (event !== COMPONENT_EVENT) return { kind: 'ignored', reason: `nexus: event "${(event ?? '(no X-Nexus-Webhook-Id)').slice(0, 64)}" has no mapping` }
    const body = requireRecord(jsonBody(delivery), '(body)', 'nexus')
    const action = requireString(body.action, 'action', 'nexus')
    if (action !== 'CREATED') return { kind: 'ignored', reason: `nexus: component action "${action.slice(0, 32)}" has no mapping` }
    const component = requireRecord(body.component, 'component', 'nexus')
    const format = requireString(component.format, 'component.format', 'nexus')
    if (PURL_TYPES[format] === undefined) return { kind: 'ignored', reason: `nexus: component format "${format.slice(0, 32)}" has no Package URL mapping` }
    const repository = requireString(body.repositoryName, 'repositoryName', 'nexus')
    const timestamp = toRfc3339(body.timestamp, 'timestamp', 'nexus')
    const initiator = optionalString(body.initiator)
    // `admin/127.0.0.1`: the user id, without the client address
    const user = initiator === undefined ? undefined : initiator.replace(/\/[^/]*$/, '')
    const id = header(delivery, 'x-nexus-webhook-delivery') ?? contentHash(delivery)
    const content: Record<string, unknown> = {}
    if (user !== undefined && user !== '') content.user = user
    return {
      kind: 'events',
      events: [validatedEvent(cdevent({
        eventClass: 'artifact.published',
        id,
        source: settings.url,
        timestamp,
        subjectId: componentPurl(component, format),
        subjectSource: `${settings.url}/repository/${encodeURIComponent(repository)}`,
        content
      }), 'nexus')]
    }
  }
}
