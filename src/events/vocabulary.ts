/**
 * CDEvents v0.5.1 as one table: the only place cdgossip states which event types exist and what
 * their envelopes and subject contents look like. JSON Schemas (schemas.ts, `schemas/`), the
 * type/class helpers (event-type.ts), topics (topic.ts) and the TS class names below are all
 * derived from it.
 *
 * The facts follow the released 0.5.1 schemas, quirks included, because peers running the official
 * schemas must reach the same verdict as we do (test/events/differential.test.ts checks this):
 * - the testing subjects (testcaserun, testsuiterun, testoutput) declare `context.source` without a
 *   uri-reference format and `subject.source` as any string (`looseSources`);
 * - ticket.closed still allows the 0.4-era `subject.type` (only the value `ticket`);
 * - a few objects are left open by the spec (`trigger`, link endpoints, `tags`);
 * - ticket `ticketType`/`priority`/`resolution` list well-known values but accept any string.
 */

export const CDEVENTS_SPEC_VERSION = '0.5.1'

export type StringFormat = 'uri' | 'uri-reference' | 'date-time'

export interface StringSpec {
  readonly kind: 'string'
  /** at least one character */
  readonly nonEmpty?: boolean
  readonly format?: StringFormat
  /** a closed set: only these values are valid */
  readonly enum?: readonly string[]
  /** an open set: any string is valid, these are the documented values */
  readonly known?: readonly string[]
  /** a regular expression (JSON Schema / ECMAScript, unicode mode) the whole value must match */
  readonly pattern?: string
  /** an annotation only: the value is base64 text */
  readonly base64?: boolean
}

export interface ArraySpec {
  readonly kind: 'array'
  readonly items: FieldSpec
}

export interface ObjectSpec {
  readonly kind: 'object'
  readonly fields: Readonly<Record<string, FieldSpec>>
  readonly required?: readonly string[]
  /** unknown keys allowed; every CDEvents object is closed except where the spec leaves it open */
  readonly open?: boolean
}

/** A reference to one of the link schemas below. */
export interface LinkRefSpec {
  readonly kind: 'link'
  readonly name: LinkSchemaName
}

/**
 * An object whose `tag` property picks its shape. Equivalent to an anyOf of the cases when every
 * case requires the tag with its own single value (true of the embedded links), but it lets the
 * validator report the violations of the one case that applies instead of those of every case.
 */
export interface TaggedSpec {
  readonly kind: 'tagged'
  readonly tag: string
  readonly cases: Readonly<Record<string, FieldSpec>>
}

/** Exactly one option must match (the options used here are disjoint by JSON type). */
export interface OneOfSpec {
  readonly kind: 'oneOf'
  readonly options: readonly FieldSpec[]
}

export type FieldSpec = StringSpec | ArraySpec | ObjectSpec | LinkRefSpec | TaggedSpec | OneOfSpec

/** One standard event type: the subject content plus the few envelope facts that vary by type. */
export interface PredicateSpec {
  /** the type's own version (the last part of `context.type`) */
  readonly version: string
  /** shape of `subject.content` */
  readonly content: ObjectSpec
  /** `context.source` is a non-empty string without format and `subject.source` any string */
  readonly looseSources?: boolean
  /** subject properties besides id, source and content */
  readonly subjectExtras?: Readonly<Record<string, FieldSpec>>
}

// --- the small vocabulary the table is written in -------------------------------------------

const S: StringSpec = { kind: 'string' }
const S1: StringSpec = { kind: 'string', nonEmpty: true }
const URI: StringSpec = { kind: 'string', format: 'uri' }
const URI1: StringSpec = { kind: 'string', nonEmpty: true, format: 'uri' }
const URI_REF1: StringSpec = { kind: 'string', nonEmpty: true, format: 'uri-reference' }
const DATE_TIME: StringSpec = { kind: 'string', format: 'date-time' }

function oneOfValues (...values: string[]): StringSpec {
  return { kind: 'string', enum: values }
}

function openValues (values: string[], nonEmpty = false): StringSpec {
  return nonEmpty ? { kind: 'string', nonEmpty, known: values } : { kind: 'string', known: values }
}

function obj (fields: Record<string, FieldSpec>, required: string[] = [], open = false): ObjectSpec {
  const spec: { -readonly [K in keyof ObjectSpec]: ObjectSpec[K] } = { kind: 'object', fields }
  if (required.length > 0) spec.required = required
  if (open) spec.open = true
  return spec
}

function list (items: FieldSpec): ArraySpec {
  return { kind: 'array', items }
}

function link (name: LinkSchemaName): LinkRefSpec {
  return { kind: 'link', name }
}

/** A reference to another subject (`{ id, source }`). */
const SUBJECT_REF = obj({ id: S1, source: URI_REF1 }, ['id'])
/** The testing subjects' references carry `source` as any string. */
const LOOSE_SUBJECT_REF = obj({ id: S1, source: S }, ['id'])

const OUTCOME = oneOfValues('success', 'failure', 'cancel', 'error')
const SEVERITY = oneOfValues('low', 'medium', 'high', 'critical')
const SBOM = obj({ uri: URI_REF1 }, ['uri'])
const TRIGGER = obj({ type: oneOfValues('manual', 'pipeline', 'event', 'schedule', 'other'), uri: URI }, [], true)
const TEST_CASE = obj({
  id: S1,
  version: S,
  name: S,
  type: oneOfValues('performance', 'functional', 'unit', 'security', 'compliance', 'integration', 'e2e', 'other'),
  uri: URI
}, ['id'])
const TEST_SUITE = obj({ id: S1, version: S, name: S, uri: URI }, ['id'])

const REPOSITORY_ONLY = obj({ repository: SUBJECT_REF })
const PIPELINE_RUN = { pipelineName: S, uri: URI }
const REPOSITORY_FACTS = { name: S, owner: S, uri: URI, viewUrl: URI }
const INCIDENT = { description: S, environment: SUBJECT_REF, service: SUBJECT_REF, artifactId: S1 }
const TASK_RUN = { taskName: S, uri: URI, pipelineRun: SUBJECT_REF }
const TEST_CASE_RUN = { environment: SUBJECT_REF, testSuiteRun: LOOSE_SUBJECT_REF, testCase: TEST_CASE }
const TICKET = {
  summary: S,
  ticketType: openValues(['bug', 'enhancement', 'incident', 'task', 'question']),
  group: S,
  creator: S1,
  assignees: list(S),
  priority: openValues(['low', 'medium', 'high']),
  labels: list(S),
  milestone: S,
  uri: URI_REF1
}

// --- the table ---------------------------------------------------------------------------------

/** subject → predicate → facts. 14 subjects, 45 types. */
export const STANDARD_EVENTS = {
  artifact: {
    packaged: { version: '0.3.0', content: obj({ change: SUBJECT_REF, sbom: SBOM }, ['change']) },
    published: { version: '0.3.0', content: obj({ sbom: SBOM, user: S1 }) },
    signed: { version: '0.3.0', content: obj({ signature: S1 }, ['signature']) },
    downloaded: { version: '0.2.0', content: obj({ user: S1 }) },
    deleted: { version: '0.2.0', content: obj({ user: S1 }) }
  },
  branch: {
    created: { version: '0.3.0', content: REPOSITORY_ONLY },
    deleted: { version: '0.3.0', content: REPOSITORY_ONLY }
  },
  build: {
    queued: { version: '0.3.0', content: obj({}) },
    started: { version: '0.3.0', content: obj({}) },
    finished: { version: '0.3.0', content: obj({ artifactId: S }) }
  },
  change: {
    created: { version: '0.4.0', content: obj({ description: S1, repository: SUBJECT_REF }) },
    updated: { version: '0.3.0', content: REPOSITORY_ONLY },
    reviewed: { version: '0.3.0', content: REPOSITORY_ONLY },
    merged: { version: '0.3.0', content: REPOSITORY_ONLY },
    abandoned: { version: '0.3.0', content: REPOSITORY_ONLY }
  },
  environment: {
    created: { version: '0.3.0', content: obj({ name: S, uri: URI }) },
    modified: { version: '0.3.0', content: obj({ name: S, uri: URI }) },
    deleted: { version: '0.3.0', content: obj({ name: S }) }
  },
  incident: {
    detected: { version: '0.3.0', content: obj(INCIDENT, ['environment']) },
    reported: { version: '0.3.0', content: obj({ ...INCIDENT, ticketURI: URI1 }, ['environment', 'ticketURI']) },
    resolved: { version: '0.3.0', content: obj(INCIDENT, ['environment']) }
  },
  pipelinerun: {
    queued: { version: '0.3.0', content: obj(PIPELINE_RUN) },
    started: { version: '0.3.0', content: obj(PIPELINE_RUN, ['pipelineName', 'uri']) },
    finished: { version: '0.3.0', content: obj({ ...PIPELINE_RUN, outcome: OUTCOME, errors: S }) }
  },
  repository: {
    created: { version: '0.3.0', content: obj({ ...REPOSITORY_FACTS, name: S1 }, ['name', 'uri']) },
    modified: { version: '0.3.0', content: obj(REPOSITORY_FACTS) },
    deleted: { version: '0.3.0', content: obj(REPOSITORY_FACTS) }
  },
  service: {
    deployed: { version: '0.3.0', content: obj({ environment: SUBJECT_REF, artifactId: S1 }, ['environment', 'artifactId']) },
    upgraded: { version: '0.3.0', content: obj({ environment: SUBJECT_REF, artifactId: S1 }, ['environment', 'artifactId']) },
    rolledback: { version: '0.3.0', content: obj({ environment: SUBJECT_REF, artifactId: S1 }, ['environment', 'artifactId']) },
    removed: { version: '0.3.0', content: obj({ environment: SUBJECT_REF }) },
    published: { version: '0.3.0', content: obj({ environment: SUBJECT_REF }) }
  },
  taskrun: {
    started: { version: '0.3.0', content: obj(TASK_RUN) },
    // taskrun's outcome is free text in 0.5.1, unlike pipelinerun's
    finished: { version: '0.3.0', content: obj({ ...TASK_RUN, outcome: S, errors: S }) }
  },
  testcaserun: {
    queued: { version: '0.3.0', looseSources: true, content: obj({ trigger: TRIGGER, ...TEST_CASE_RUN }, ['environment']) },
    started: { version: '0.3.0', looseSources: true, content: obj({ trigger: TRIGGER, ...TEST_CASE_RUN }, ['environment']) },
    finished: {
      version: '0.3.0',
      looseSources: true,
      content: obj({ outcome: OUTCOME, severity: SEVERITY, reason: S, ...TEST_CASE_RUN }, ['outcome', 'environment'])
    },
    skipped: { version: '0.2.0', looseSources: true, content: obj({ reason: S, ...TEST_CASE_RUN }) }
  },
  testsuiterun: {
    queued: { version: '0.3.0', looseSources: true, content: obj({ trigger: TRIGGER, environment: SUBJECT_REF, testSuite: TEST_SUITE }, ['environment']) },
    started: { version: '0.3.0', looseSources: true, content: obj({ trigger: TRIGGER, environment: SUBJECT_REF, testSuite: TEST_SUITE }, ['environment']) },
    finished: {
      version: '0.3.0',
      looseSources: true,
      content: obj({ environment: SUBJECT_REF, testSuite: TEST_SUITE, outcome: OUTCOME, severity: SEVERITY, reason: S }, ['outcome', 'environment'])
    }
  },
  testoutput: {
    published: {
      version: '0.3.0',
      looseSources: true,
      content: obj({
        outputType: oneOfValues('report', 'video', 'image', 'log', 'other'),
        // a media type such as application/pdf
        format: S,
        uri: URI,
        testCaseRun: LOOSE_SUBJECT_REF
      }, ['outputType', 'format'])
    }
  },
  ticket: {
    created: { version: '0.2.0', content: obj(TICKET, ['summary', 'creator', 'uri']) },
    updated: { version: '0.2.0', content: obj({ ...TICKET, updatedBy: S }, ['uri']) },
    closed: {
      version: '0.2.0',
      content: obj({ ...TICKET, resolution: openValues(['completed', 'withdrawn', 'duplicate'], true), updatedBy: S }, ['uri', 'resolution']),
      subjectExtras: { type: { kind: 'string', nonEmpty: true, enum: ['ticket'] } }
    }
  }
} as const satisfies Readonly<Record<string, Readonly<Record<string, PredicateSpec>>>>

type Table = typeof STANDARD_EVENTS
export type StandardSubject = keyof Table
/** `pipelinerun.finished`, …: the 45 standard event classes as a type. */
export type StandardEventClass = { [S in StandardSubject]: `${S}.${keyof Table[S] & string}` }[StandardSubject]
/** `dev.cdevents.pipelinerun.finished.0.3.0`, …: the 45 standard `context.type` values as a type. */
export type StandardEventType = {
  [S in StandardSubject]: { [P in keyof Table[S] & string]: Table[S][P] extends { version: infer V extends string } ? `dev.cdevents.${S}.${P}.${V}` : never }[keyof Table[S] & string]
}[StandardSubject]

// --- custom events -----------------------------------------------------------------------------

/**
 * `dev.cdeventsx.<tool>-<subject>.<predicate>.<M.m.p>`, exactly as the 0.5.1 custom schema
 * constrains it (single-digit version parts, letters only in subject and predicate).
 */
export const CUSTOM_TYPE_PATTERN = '^dev\\.cdeventsx\\.[a-zA-Z0-9]+-[a-zA-Z]+\\.[a-zA-Z]+\\.[0-9]\\.[0-9]\\.[0-9]$'

/** Custom events: any content object; everything else as for a standard type. */
export const CUSTOM_EVENT = {
  content: obj({}, [], true)
} as const satisfies { content: ObjectSpec }

// --- links -------------------------------------------------------------------------------------

export const LINK_SCHEMA_NAMES = [
  'embeddedlinkend', 'embeddedlinkpath', 'embeddedlinkrelation', 'embeddedlinksarray',
  'linkend', 'linkpath', 'linkrelation', 'linkstart'
] as const
export type LinkSchemaName = typeof LINK_SCHEMA_NAMES[number]

/** `{ contextId }` naming another event; the spec leaves these objects open. */
const CONTEXT_ID = obj({ contextId: S1 }, ['contextId'], true)
const TAGS = obj({}, [], true)

/**
 * The link schemas of 0.5.1. The standalone ones (`link*`) describe links sent on their own; the
 * embedded ones (`embeddedlink*`) are the items of `context.links`, where the event itself is one
 * end of the link (`from` names the parent event the producer consumed).
 */
export const LINK_SCHEMAS: Readonly<Record<LinkSchemaName, FieldSpec>> = {
  linkstart: obj({ chainId: S1, linkType: oneOfValues('START'), timestamp: DATE_TIME, start: CONTEXT_ID, tags: TAGS },
    ['chainId', 'linkType', 'timestamp', 'start']),
  linkend: obj({ chainId: S1, linkType: oneOfValues('END'), timestamp: DATE_TIME, from: CONTEXT_ID, end: CONTEXT_ID, tags: TAGS },
    ['chainId', 'linkType', 'timestamp', 'from', 'end']),
  linkpath: obj({ chainId: S1, linkType: oneOfValues('PATH'), timestamp: DATE_TIME, from: CONTEXT_ID, to: CONTEXT_ID, tags: TAGS },
    ['chainId', 'linkType', 'timestamp', 'from', 'to']),
  linkrelation: obj({
    chainId: S1,
    linkType: oneOfValues('RELATION'),
    linkKind: S1,
    timestamp: DATE_TIME,
    source: CONTEXT_ID,
    target: CONTEXT_ID,
    tags: TAGS
  }, ['chainId', 'linkType', 'timestamp', 'source', 'target']),
  embeddedlinkend: obj({ linkType: oneOfValues('END'), from: CONTEXT_ID, tags: TAGS }, ['linkType']),
  embeddedlinkpath: obj({ linkType: oneOfValues('PATH'), from: CONTEXT_ID, tags: TAGS }, ['linkType', 'from']),
  // the relation target's contextId is optional in 0.5.1
  embeddedlinkrelation: obj({ linkType: oneOfValues('RELATION'), linkKind: S1, target: obj({ contextId: S1 }, [], true), tags: TAGS },
    ['linkType', 'linkKind', 'target']),
  embeddedlinksarray: list({
    kind: 'tagged',
    tag: 'linkType',
    cases: { END: link('embeddedlinkend'), PATH: link('embeddedlinkpath'), RELATION: link('embeddedlinkrelation') }
  })
}

// --- the envelope ------------------------------------------------------------------------------

/** The context attributes every CDEvent carries. */
export const CONTEXT_REQUIRED = ['specversion', 'id', 'source', 'type', 'timestamp'] as const

/** `context` for one type, given the spec of its `type` string and whether sources are loose. */
export function contextSpec (type: StringSpec, looseSources: boolean): ObjectSpec {
  return obj({
    specversion: S1,
    id: S1,
    source: looseSources ? S1 : URI_REF1,
    type,
    timestamp: DATE_TIME,
    schemaUri: URI1,
    chainId: S1,
    links: link('embeddedlinksarray')
  }, [...CONTEXT_REQUIRED])
}

/** `subject` for one type. */
export function subjectSpec (content: ObjectSpec, looseSources: boolean, extras: Readonly<Record<string, FieldSpec>> = {}): ObjectSpec {
  return obj({ id: S1, source: looseSources ? S : URI_REF1, ...extras, content }, ['id', 'content'])
}

/** The whole event: context, subject and the optional custom data. */
export function eventSpec (context: ObjectSpec, subject: ObjectSpec): ObjectSpec {
  return obj({
    context,
    subject,
    customData: { kind: 'oneOf', options: [obj({}, [], true), { kind: 'string', base64: true }] },
    customDataContentType: S
  }, ['context', 'subject'])
}

/** One standard event type with everything derived from its table row. */
export interface EventTypeSpec {
  readonly subject: StandardSubject
  readonly predicate: string
  readonly version: string
  /** `subject.predicate` */
  readonly eventClass: StandardEventClass
  /** the full `context.type` */
  readonly type: StandardEventType
  readonly spec: PredicateSpec
}

/** The table is shared by every caller: freeze it so nobody can change a schema at runtime. */
function deepFreeze (value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return
  Object.freeze(value)
  for (const v of Object.values(value)) deepFreeze(v)
}
deepFreeze(STANDARD_EVENTS)
deepFreeze(CUSTOM_EVENT)
deepFreeze(LINK_SCHEMAS)

/** The table flattened, sorted by event class. */
export const EVENT_TYPE_SPECS: readonly EventTypeSpec[] = Object.freeze(
  Object.entries(STANDARD_EVENTS).flatMap(([subject, predicates]) =>
    Object.entries(predicates as Readonly<Record<string, PredicateSpec>>).map(([predicate, spec]) => Object.freeze({
      subject: subject as StandardSubject,
      predicate,
      version: spec.version,
      eventClass: `${subject}.${predicate}` as StandardEventClass,
      type: `dev.cdevents.${subject}.${predicate}.${spec.version}` as StandardEventType,
      spec
    }))
  ).sort((a, b) => a.eventClass < b.eventClass ? -1 : a.eventClass > b.eventClass ? 1 : 0)
)
