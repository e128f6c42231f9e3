import {
  CDEVENTS_SPEC_VERSION,
  contextSpec,
  CUSTOM_EVENT,
  CUSTOM_TYPE_PATTERN,
  EVENT_TYPE_SPECS,
  eventSpec,
  LINK_SCHEMA_NAMES,
  LINK_SCHEMAS,
  subjectSpec
} from './vocabulary.js'
import type { ParsedEventType } from './types.js'
import type { EventTypeSpec, FieldSpec, LinkSchemaName } from './vocabulary.js'

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }
export type JsonSchema = { [key: string]: JsonValue }

/**
 * Base of every generated schema's `$id` (and of the `$ref`s between them). An identifier, not a
 * download location: the schemas ship in the package's `schemas/` folder, and API route schemas
 * `$ref` these ids after registering the files.
 */
export const SCHEMA_BASE_URI = `https://cdgossip.dev/schemas/cdevents/${CDEVENTS_SPEC_VERSION}/`

const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema'

/** A generated schema and where it lives, relative to `schemas/` (posix separators). */
export interface SchemaFile {
  readonly path: string
  readonly schema: JsonSchema
}

export const CUSTOM_SCHEMA_PATH = 'custom.json'

/** `pipelinerun-finished.json` for a standard type, `custom.json` for any custom one. */
export function schemaPathFor (parsed: Pick<ParsedEventType, 'kind' | 'subject' | 'predicate'>): string {
  return parsed.kind === 'custom' ? CUSTOM_SCHEMA_PATH : `${parsed.subject}-${parsed.predicate}.json`
}

export function linkSchemaPath (name: LinkSchemaName): string {
  return `links/${name}.json`
}

export function schemaIdOf (path: string): string {
  return SCHEMA_BASE_URI + path
}

/** The `$id` of the schema a parsed type validates against. */
export function schemaIdFor (parsed: Pick<ParsedEventType, 'kind' | 'subject' | 'predicate'>): string {
  return schemaIdOf(schemaPathFor(parsed))
}

function fieldSchema (spec: FieldSpec): JsonSchema {
  switch (spec.kind) {
    case 'string': {
      const s: JsonSchema = { type: 'string' }
      if (spec.nonEmpty === true) s.minLength = 1
      if (spec.format !== undefined) s.format = spec.format
      if (spec.enum !== undefined) s.enum = [...spec.enum]
      // an open set is documented, not enforced: the spec's anyOf[enum, string] accepts any string
      if (spec.known !== undefined) s.examples = [...spec.known]
      if (spec.pattern !== undefined) s.pattern = spec.pattern
      if (spec.base64 === true) s.contentEncoding = 'base64'
      return s
    }
    case 'array':
      return { type: 'array', items: fieldSchema(spec.items) }
    case 'object': {
      const s: JsonSchema = { type: 'object' }
      const names = Object.keys(spec.fields)
      if (names.length > 0) {
        const properties: JsonSchema = {}
        for (const name of names) properties[name] = fieldSchema(spec.fields[name] as FieldSpec)
        s.properties = properties
      }
      if (spec.required !== undefined && spec.required.length > 0) s.required = [...spec.required]
      if (spec.open !== true) s.additionalProperties = false
      return s
    }
    case 'link':
      return { $ref: schemaIdOf(linkSchemaPath(spec.name)) }
    case 'tagged': {
      const tags = Object.keys(spec.cases)
      return {
        type: 'object',
        required: [spec.tag],
        properties: { [spec.tag]: { type: 'string', enum: tags } },
        allOf: tags.map(tag => ({
          if: { required: [spec.tag], properties: { [spec.tag]: { const: tag } } },
          then: fieldSchema(spec.cases[tag] as FieldSpec)
        }))
      }
    }
    case 'oneOf':
      return { oneOf: spec.options.map(fieldSchema) }
  }
}

function header (path: string, title: string): JsonSchema {
  return { $schema: JSON_SCHEMA_DIALECT, $id: schemaIdOf(path), title }
}

/** The schema of one standard event type. */
export function buildEventSchema (t: EventTypeSpec): JsonSchema {
  const loose = t.spec.looseSources === true
  const event = eventSpec(
    contextSpec({ kind: 'string', enum: [t.type] }, loose),
    subjectSpec(t.spec.content, loose, t.spec.subjectExtras)
  )
  return {
    ...header(schemaPathFor({ kind: 'standard', subject: t.subject, predicate: t.predicate }), `CDEvent ${t.type}`),
    ...fieldSchema(event)
  }
}

/** The schema of every custom (`dev.cdeventsx.*`) event. */
export function buildCustomEventSchema (): JsonSchema {
  const event = eventSpec(
    contextSpec({ kind: 'string', pattern: CUSTOM_TYPE_PATTERN }, false),
    subjectSpec(CUSTOM_EVENT.content, false)
  )
  return {
    ...header(CUSTOM_SCHEMA_PATH, 'Custom CDEvent dev.cdeventsx.<tool>-<subject>.<predicate>.<M.m.p>'),
    ...fieldSchema(event)
  }
}

export function buildLinkSchema (name: LinkSchemaName): JsonSchema {
  return { ...header(linkSchemaPath(name), `CDEvents link ${name}`), ...fieldSchema(LINK_SCHEMAS[name]) }
}

/** Every generated schema: the 45 event types, the custom one and the 8 link schemas, sorted by path. */
export function buildSchemaFiles (): SchemaFile[] {
  const files: SchemaFile[] = [
    ...EVENT_TYPE_SPECS.map(t => ({
      path: schemaPathFor({ kind: 'standard', subject: t.subject, predicate: t.predicate }),
      schema: buildEventSchema(t)
    })),
    { path: CUSTOM_SCHEMA_PATH, schema: buildCustomEventSchema() },
    ...LINK_SCHEMA_NAMES.map(name => ({ path: linkSchemaPath(name), schema: buildLinkSchema(name) }))
  ]
  return files.sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0)
}

function sortKeys (value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value === null || typeof value !== 'object') return value
  const out: { [key: string]: JsonValue } = {}
  for (const key of Object.keys(value).sort()) out[key] = sortKeys(value[key] as JsonValue)
  return out
}

/** Deterministic file text: keys sorted (arrays keep their order), 2-space indent, trailing newline. */
export function serializeSchema (schema: JsonSchema): string {
  return JSON.stringify(sortKeys(schema), null, 2) + '\n'
}

/** What `schemas/` must contain, path → text; what scripts/gen-schemas.ts writes and the freshness test compares. */
export function renderSchemaFiles (): Array<{ path: string, content: string }> {
  return buildSchemaFiles().map(f => ({ path: f.path, content: serializeSchema(f.schema) }))
}
