/**
 * The data model every folder shares. events/ is the root of the dependency graph:
 * signing, store, p2p, delivery and api import these types and nothing else from here
 * except through events/index.ts.
 */

/** A CDEvent v0.5.1 as parsed from JSON. Fields beyond the context are schema-checked, not typed. */
export interface CDEvent {
  context: CDEventContext
  subject: CDEventSubject
  customData?: unknown
  customDataContentType?: string
}

export interface CDEventContext {
  specversion: string
  id: string
  source: string
  type: string
  timestamp: string
  schemaUri?: string
  chainId?: string
  links?: unknown[]
}

export interface CDEventSubject {
  id: string
  source?: string
  content: Record<string, unknown>
}

/**
 * An event class names what happened, independent of the type's version:
 * `pipelinerun.finished` for `dev.cdevents.pipelinerun.finished.0.3.0`, and
 * `x.mytool-resource.created` for the custom `dev.cdeventsx.mytool-resource.created.0.1.0`.
 * It is the unit of topics, sequences, trust scopes and subscriptions.
 */
export type EventClass = string

/** What a CDEvents `context.type` string says, parsed. */
export interface ParsedEventType {
  kind: 'standard' | 'custom'
  /** e.g. `pipelinerun`, or for custom events `resource` */
  subject: string
  predicate: string
  /** the type's own version, e.g. `0.3.0` */
  version: string
  /** custom events only: the tool name before the dash */
  tool?: string
  eventClass: EventClass
}

/**
 * CloudEvent context attributes as cdgossip carries them (JSON format, all string-valued).
 * Per the CDEvents CloudEvents binding: id/source/type mirror the CDEvent context,
 * subject = subject.id, time = context.timestamp, datacontenttype = application/json.
 */
export interface CloudEventAttributes {
  specversion: '1.0'
  id: string
  source: string
  type: string
  subject?: string
  time?: string
  datacontenttype?: string
  dataschema?: string
}

/**
 * The signed CloudEvent as it travels and is stored: the attributes above plus the
 * Verifiability extension (`dssematerial`, `signedextattrs`) and the Sequence extension
 * (`sequence`, signed). `bytes` are the exact wire bytes (CloudEvents JSON format, UTF-8,
 * data carried verbatim in `data_base64`); their sha256 is the record digest and the
 * gossipsub message id, so every node holds byte-identical records.
 */
export interface SignedCloudEvent {
  readonly bytes: Uint8Array
  /** lowercase hex sha256 of `bytes` */
  readonly digest: string
  readonly attributes: CloudEventAttributes & {
    sequence: string
    signedextattrs: string
    dssematerial: string
  }
  /** the exact signed data bytes (the CDEvent JSON) */
  readonly data: Uint8Array
  /** the signer's peer ID (the DSSE keyid); the origin community */
  readonly origin: string
  /** per (origin, event class), from 1, contiguous */
  readonly sequence: number
}

/** A signed CloudEvent whose data has been parsed and schema-checked as a CDEvent. */
export interface SignedEvent extends SignedCloudEvent {
  readonly cdevent: CDEvent
  readonly eventClass: EventClass
}
