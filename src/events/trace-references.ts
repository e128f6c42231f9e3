import type { CDEvent } from '../events/types.js'

/**
 * What one CDEvent says about other events and entities, pure: its identities (what others can
 * point at: its context id, the entity its subject is) and its references (what it points at:
 * `context.links` by context id, and the fields that name another subject). The store indexes both
 * when it writes a record; the trace graph follows them.
 *
 * Keys are namespaced text: `c\x1f<contextId>` for an event's context id, `e\x1f<subject
 * type>\x1f<id>` for an entity, so a change id and an environment id never meet by accident.
 */

/** Separator inside a trace key; below every printable character and never in a CDEvents id we index. */
const PART = '\x1f'
/** A CDEvent may carry many links; more than this are ignored by the trace (a record's own bytes keep them all). */
export const MAX_LINKS_PER_EVENT = 64

export type EdgeKind = 'path' | 'relation' | 'entity'

/**
 * `up`: the referenced events are upstream of the referring one (a test run and the artifact it
 * tested); `down`: they are downstream (a build and the artifact it produced).
 */
export type Role = 'up' | 'down'

export interface Reference {
  /** what is referenced: contextKey or entityKey */
  target: string
  kind: EdgeKind
  /** the link type (PATH, END), the relation's linkKind, or the field (`artifactId`, `environment`) */
  via: string
  role: Role
  /** a link's `source`, when the link names one: then only the event with this (source, id) matches */
  source?: string
}

/** A record that references a key, and how (the store's `trace-ref` index answers these). */
export interface Referrer {
  digest: string
  refs: Array<Omit<Reference, 'target'>>
}

export interface TraceFacts {
  /** keys other events may use to reach this one */
  identities: string[]
  references: Reference[]
}

export function contextKey (contextId: string): string {
  return `c${PART}${contextId}`
}

/** `subjectType` is the CDEvents subject name, lowercased: artifact, change, environment, service, pipelinerun… */
export function entityKey (subjectType: string, id: string): string {
  return `e${PART}${subjectType}${PART}${id}`
}

/** The parts of a trace key; undefined for text that is not one. */
export function parseKey (key: string): { contextId: string } | { subjectType: string, id: string } | undefined {
  const parts = key.split(PART)
  if (parts[0] === 'c' && parts.length === 2 && parts[1] !== '') return { contextId: parts[1] as string }
  if (parts[0] === 'e' && parts.length >= 3) return { subjectType: parts[1] as string, id: parts.slice(2).join(PART) }
  return undefined
}

/**
 * Subject fields that name another subject, per event subject: the field, the subject type it
 * names, and which side is upstream. From the CDEvents 0.5.1 vocabulary (events/vocabulary.ts).
 * `build.finished`'s artifactId is the artifact the build produced, hence `down`; every other
 * reference names something the event came after or ran against.
 */
const ENTITY_FIELDS: Readonly<Record<string, ReadonlyArray<{ field: string, subjectType: string, role: Role, plain?: true }>>> = {
  artifact: [{ field: 'change', subjectType: 'change', role: 'up' }],
  build: [{ field: 'artifactId', subjectType: 'artifact', role: 'down', plain: true }],
  service: [
    { field: 'artifactId', subjectType: 'artifact', role: 'up', plain: true },
    { field: 'environment', subjectType: 'environment', role: 'up' }
  ],
  incident: [
    { field: 'artifactId', subjectType: 'artifact', role: 'up', plain: true },
    { field: 'environment', subjectType: 'environment', role: 'up' },
    { field: 'service', subjectType: 'service', role: 'up' }
  ],
  taskrun: [{ field: 'pipelineRun', subjectType: 'pipelinerun', role: 'up' }],
  testcaserun: [
    { field: 'environment', subjectType: 'environment', role: 'up' },
    { field: 'testSuiteRun', subjectType: 'testsuiterun', role: 'up' }
  ],
  testsuiterun: [{ field: 'environment', subjectType: 'environment', role: 'up' }],
  branch: [{ field: 'repository', subjectType: 'repository', role: 'up' }],
  change: [{ field: 'repository', subjectType: 'repository', role: 'up' }]
}

/**
 * The CDEvents 0.5.1 test run subjects cannot name an artifact in their content (it is closed),
 * so an emitter that links a test run to an artifact without `context.links` says so in
 * `customData.artifactId`, a Package URL: cdgossip's convention, read for every event.
 */
const CUSTOM_ARTIFACT_FIELD = 'artifactId'

/** Subject types some field can name: only these are worth an identity entry per record. */
const REFERENCED_TYPES: ReadonlySet<string> = new Set(Object.values(ENTITY_FIELDS).flatMap(specs => specs.map(spec => spec.subjectType)))

/** The subject type of an event class (`artifact.published` → `artifact`). */
export function subjectTypeOf (eventClass: string): string {
  const dot = eventClass.indexOf('.')
  return dot < 0 ? eventClass : eventClass.slice(0, dot)
}

function nonEmpty (value: unknown): value is string {
  return typeof value === 'string' && value !== ''
}

/** Identities and references of one event of class `eventClass`. Never throws on odd content. */
export function traceFactsOf (cdevent: CDEvent, eventClass: string): TraceFacts {
  const subjectType = subjectTypeOf(eventClass)
  const identities = [contextKey(cdevent.context.id)]
  if (nonEmpty(cdevent.subject?.id) && REFERENCED_TYPES.has(subjectType)) identities.push(entityKey(subjectType, cdevent.subject.id))
  const references: Reference[] = []
  const seen = new Set<string>()
  const add = (ref: Reference): void => {
    const k = `${ref.target}\n${ref.via}\n${ref.role}\n${ref.source ?? ''}`
    if (seen.has(k) || identities.includes(ref.target)) return
    seen.add(k)
    references.push(ref)
  }
  const links: unknown = cdevent.context.links
  if (Array.isArray(links)) {
    for (const raw of links.slice(0, MAX_LINKS_PER_EVENT)) {
      if (typeof raw !== 'object' || raw === null) continue
      const l = raw as Record<string, unknown>
      const end = l.linkType === 'RELATION' ? l.target : l.from
      if (typeof end !== 'object' || end === null) continue
      const { contextId, source } = end as Record<string, unknown>
      if (!nonEmpty(contextId)) continue
      const at = nonEmpty(source) ? { source } : {}
      if (l.linkType === 'PATH' || l.linkType === 'END') add({ target: contextKey(contextId), kind: 'path', via: l.linkType, role: 'up', ...at })
      else if (l.linkType === 'RELATION' && nonEmpty(l.linkKind)) add({ target: contextKey(contextId), kind: 'relation', via: l.linkKind, role: 'up', ...at })
    }
  }
  const content = cdevent.subject?.content
  if (typeof content === 'object' && content !== null) {
    for (const spec of ENTITY_FIELDS[subjectType] ?? []) {
      const value = content[spec.field]
      const id = spec.plain === true ? value : (typeof value === 'object' && value !== null ? (value as Record<string, unknown>).id : undefined)
      if (nonEmpty(id)) add({ target: entityKey(spec.subjectType, id), kind: 'entity', via: spec.field, role: spec.role })
    }
  }
  const custom = cdevent.customData
  if (typeof custom === 'object' && custom !== null && !Array.isArray(custom)) {
    const purl = (custom as Record<string, unknown>)[CUSTOM_ARTIFACT_FIELD]
    if (nonEmpty(purl) && subjectType !== 'artifact') {
      add({ target: entityKey('artifact', purl), kind: 'entity', via: `customData.${CUSTOM_ARTIFACT_FIELD}`, role: subjectType === 'build' ? 'down' : 'up' })
    }
  }
  return { identities, references }
}
