export type {
  CDEvent,
  CDEventContext,
  CDEventSubject,
  CloudEventAttributes,
  EventClass,
  ParsedEventType,
  SignedCloudEvent,
  SignedEvent
} from './types.js'

export {
  InvalidCloudEventError,
  InvalidEventError,
  UnsupportedSpecVersionError
} from './errors.js'
export type {
  CloudEventMismatch,
  InvalidCloudEventDetails,
  InvalidEventDetails,
  UnsupportedSpecVersionDetails,
  Violation
} from './errors.js'

export { CDEVENTS_SPEC_VERSION, CUSTOM_TYPE_PATTERN, EVENT_TYPE_SPECS } from './vocabulary.js'
export type {
  EventTypeSpec,
  FieldSpec,
  PredicateSpec,
  StandardEventClass,
  StandardEventType,
  StandardSubject
} from './vocabulary.js'

export {
  eventClassOf,
  eventTypeSpecOf,
  isEventClass,
  isStandardEventClass,
  isStandardSubject,
  MAX_EVENT_TYPE_LENGTH,
  parseEventType,
  STANDARD_EVENT_CLASSES,
  STANDARD_SUBJECTS,
  standardTypeOf
} from './event-type.js'

export {
  classMatchesPattern,
  expandClassPattern,
  isClassPattern,
  isValidNetworkName,
  parseTopic,
  TOPIC_PREFIX,
  topicFor
} from './topic.js'
export { classPatternProblem } from './class-pattern-hint.js'
export { closest, editDistance } from './did-you-mean.js'

export {
  buildSchemaFiles,
  renderSchemaFiles,
  SCHEMA_BASE_URI,
  schemaIdFor,
  schemaPathFor,
  serializeSchema
} from './schemas.js'
export type { JsonSchema, JsonValue, SchemaFile } from './schemas.js'

export { MAX_REPORTED_VIOLATIONS, validateCDEvent, warmUpValidators } from './validate.js'
export type { ValidatedCDEvent } from './validate.js'

export {
  CDEVENT_DATA_CONTENT_TYPE,
  checkCloudEventConsistency,
  CLOUDEVENTS_SPEC_VERSION,
  decodeCDEventData,
  encodeCDEventData,
  toCloudEventAttributes
} from './cloudevent.js'

export {
  dateTimeToEpochMs,
  epochMsOf,
  formatUtcSeconds,
  fullDateToEpochMs,
  isDateTime,
  MAX_FRACTION_DIGITS,
  parseDateTime,
  RFC3339_DATE_TIME_PATTERN,
  sameInstant,
  truncatesTo
} from './rfc3339.js'
export type { DateTime } from './rfc3339.js'

export type { AppendOutcome, EventPage, EventQuery, SequenceState, StoredEvent } from './records.js'
export { eventViewJson } from './event-view.js'
export type { EventView } from './event-view.js'
export { decodeCursor, encodeCursor } from './cursor.js'
