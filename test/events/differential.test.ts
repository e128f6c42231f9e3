/**
 * The project's validator must agree with the official CDEvents 0.5.1 schemas: for every official
 * example and many mutations of it, valid/invalid must be the same verdict on both sides. The
 * official schemas are compiled here with their own Ajv2020 instance (links registered first).
 */
import path from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { describe, expect, it } from 'vitest'
import { isCdgossipError } from '../../src/errors.js'
import { buildSchemaFiles, validateCDEvent } from '../../src/events/index.js'
import { loadExamples, loadOfficialSchemas, SKIP_REASON, SPEC_AVAILABLE } from './cdevents-spec.js'
import type { ValidateFunction } from 'ajv'

const addFormats = addFormatsModule.default

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

interface Mutation {
  label: string
  value: unknown
}

const UNKNOWN_KEY = 'zzUnknownKey'
/** One value of each JSON type, used as "wrong type" replacements. */
const TYPE_PROBES: Json[] = [42, 1.5, true, null, [], {}, 'text']
/** Replacements for string values: empty, not in any enum, bad and good URIs / URI references / date-times. */
const STRING_PROBES: string[] = [
  '',
  'zz-not-in-any-enum',
  'not a uri',
  'http://exa mple.com/x',
  '/relative/ref',
  'relative',
  'https://example.com/ok',
  'urn:isbn:0451450523',
  '%zz',
  '::',
  '2024-02-30T10:00:00Z',
  '2024-01-01T00:00:00',
  '2024-01-01 10:00:00Z',
  '2024-01-01T10:00:00+01:00',
  '2024-01-01T10:00:00.123456Z',
  '2024-01-01T25:00:00Z'
]
/**
 * specversion: the official schema accepts any non-empty string, cdgossip only 0.5.x (documented in
 * validate.ts), so only values both sides judge the same way are probed; the refusals are tested in
 * validate.test.ts.
 */
const SPECVERSION_PROBES: Json[] = ['', '0.5.0', '0.5.7', 42, true, null, [], {}]
const CUSTOM_TYPE_PROBES: string[] = [
  'dev.cdeventsx.othertool-thing.happened.1.2.3',
  'dev.cdeventsx.Tool2-Thing.Happened.0.0.9',
  'dev.cdeventsx.bad_tool-thing.happened.1.2.3',
  'dev.cdeventsx.tool-thing2.happened.1.2.3',
  'dev.cdeventsx.tool-thing.happened.10.0.0',
  'dev.cdeventsx.toolthing.happened.1.0.0',
  'dev.cdeventsx.tool-thing.happened.1.0'
]

function typeOf (v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v
}

function clone<T> (v: T): T {
  return structuredClone(v)
}

/** Replaces (or with `undefined`, deletes) the value at a path of keys/indexes. */
function setAt (root: Json, keys: Array<string | number>, value: Json | undefined): Json {
  if (keys.length === 0) return value as Json
  const copy = clone(root)
  let node = copy as Record<string | number, Json>
  for (const k of keys.slice(0, -1)) node = node[k] as Record<string | number, Json>
  const last = keys[keys.length - 1] as string | number
  if (value === undefined) {
    if (Array.isArray(node)) node.splice(last as number, 1)
    else delete node[last]
  } else {
    node[last] = value
  }
  return copy
}

function pointer (keys: Array<string | number>): string {
  return keys.map(k => `/${String(k)}`).join('') || '(root)'
}

function * mutations (example: Json, isCustom: boolean): Generator<Mutation> {
  function * walk (node: Json, keys: Array<string | number>): Generator<Mutation> {
    const at = pointer(keys)
    const isSpecversion = at === '/context/specversion'
    const isType = at === '/context/type'
    if (keys.length > 0) {
      const probes = isSpecversion ? SPECVERSION_PROBES : TYPE_PROBES
      for (const probe of probes) {
        if (typeOf(probe) !== typeOf(node) || (isSpecversion && probe !== node)) {
          yield { label: `${at} := ${JSON.stringify(probe)}`, value: setAt(example, keys, probe) }
        }
      }
    }
    if (typeof node === 'string' && !isSpecversion) {
      const probes = isType && isCustom ? [...STRING_PROBES, ...CUSTOM_TYPE_PROBES] : STRING_PROBES
      for (const probe of probes) {
        if (probe !== node) yield { label: `${at} := ${JSON.stringify(probe)}`, value: setAt(example, keys, probe) }
      }
    }
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        yield { label: `drop ${at}/${i}`, value: setAt(example, [...keys, i], undefined) }
        yield * walk(node[i] as Json, [...keys, i])
      }
    } else if (node !== null && typeof node === 'object') {
      for (const key of Object.keys(node)) {
        yield { label: `drop ${at}/${key}`, value: setAt(example, [...keys, key], undefined) }
        yield * walk(node[key] as Json, [...keys, key])
      }
      yield { label: `add ${at}/${UNKNOWN_KEY}`, value: setAt(example, [...keys, UNKNOWN_KEY], 'x') }
    }
  }
  yield * walk(example, [])

  // envelope facts the examples do not exercise
  const extras: Array<[Array<string | number>, Json]> = [
    [['subject', 'type'], 'ticket'],
    [['subject', 'type'], 'pipelineRun'],
    [['context', 'version'], '0.4.1'],
    [['customData'], { any: ['thing'] }],
    [['customData'], 'aGVsbG8='],
    [['customData'], 'not base64 at all!'],
    [['customData'], 42],
    [['customData'], []],
    [['customData'], null],
    [['customDataContentType'], 'application/json'],
    [['customDataContentType'], 7],
    [['context', 'links'], []],
    [['context', 'links'], {}],
    [['context', 'links'], [{ linkType: 'RELATION', linkKind: 'TRIGGER', target: {} }]],
    [['context', 'links'], [{ linkType: 'RELATION', linkKind: 'TRIGGER', target: { extra: 1 } }]],
    [['context', 'links'], [{ linkType: 'END' }]],
    [['context', 'links'], [{ linkType: 'PATH' }]],
    [['context', 'links'], [{ linkType: 'START', chainId: 'c', timestamp: '2024-01-01T00:00:00Z', start: { contextId: 'a' } }]],
    [['context', 'links'], [{ linkType: 'end', from: { contextId: 'a' } }]],
    [['context', 'links'], [{ from: { contextId: 'a' } }]],
    [['context', 'links'], ['END']],
    [['context', 'links'], [{ linkType: 'PATH', from: { contextId: 'a', more: true }, tags: { n: 1 } }]],
    [['context', 'links'], [{ linkType: 'PATH', from: { contextId: '' } }]],
    [['context', 'links'], [{ linkType: 'END', from: {} }]],
    [['context', 'chainId'], ''],
    [['context', 'schemaUri'], '/relative/schema']
  ]
  for (const [keys, value] of extras) {
    yield { label: `set ${pointer(keys)} := ${JSON.stringify(value)}`, value: setAt(example, keys, value) }
  }
  for (const root of [[], 'event', 42, null] as Json[]) yield { label: `root := ${JSON.stringify(root)}`, value: root }
}

/** Removes what cannot change a verdict, and spells equivalent constructs one way. */
function normalize (schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(normalize)
  if (schema === null || typeof schema !== 'object') return schema
  const s = schema as Record<string, unknown>
  const anyOf = s.anyOf as Array<Record<string, unknown>> | undefined
  // the spec's open enums: anyOf [string with enum, string] accepts exactly what the plain string accepts
  if (anyOf?.length === 2 && anyOf.every(b => b.type === 'string') && anyOf[0]?.enum !== undefined && anyOf[1]?.enum === undefined) {
    const { anyOf: _branches, ...rest } = s
    return normalize({ ...rest, ...anyOf[1] })
  }
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(s).sort()) {
    const v = s[key]
    if (['$schema', '$id', 'title', 'description', 'default', 'example', 'examples', 'contentEncoding'].includes(key)) continue
    if (key === 'required' && Array.isArray(v) && v.length === 0) continue
    if (key === 'additionalProperties' && v === true) continue
    if (key === 'properties' && Object.keys(v as object).length === 0) continue
    if (key === '$ref') { out[key] = path.posix.basename(v as string).replace(/\.json$/, ''); continue }
    out[key] = normalize(v)
  }
  return out
}

describe.skipIf(!SPEC_AVAILABLE)(`differential check against the official schemas${SPEC_AVAILABLE ? '' : ` (${SKIP_REASON})`}`, () => {
  const examples = SPEC_AVAILABLE ? loadExamples() : []
  const official = SPEC_AVAILABLE ? loadOfficialSchemas() : undefined

  function officialValidator (): (type: string) => ValidateFunction {
    const ajv = new Ajv2020({ strict: false, allErrors: false })
    addFormats(ajv)
    for (const link of official!.links) ajv.addSchema(link)
    const byType = new Map<string, ValidateFunction>()
    const custom = ajv.compile(official!.custom)
    for (const [type, schema] of official!.events) byType.set(type, ajv.compile(schema))
    return (type: string) => byType.get(type) ?? custom
  }

  it('gives the official verdict for every mutation of every example', () => {
    const officialFor = officialValidator()
    const disagreements: string[] = []
    let total = 0
    let invalidCount = 0
    for (const { name, event } of examples) {
      const type = (event.context as { type: string }).type
      const validateOfficial = officialFor(type)
      const isCustom = type.startsWith('dev.cdeventsx.')
      for (const m of mutations(event as Json, isCustom)) {
        total++
        const officialValid = validateOfficial(m.value)
        let ours = true
        let why = ''
        try {
          validateCDEvent(m.value)
        } catch (err) {
          if (!isCdgossipError(err)) throw err
          ours = false
          why = `${err.code}: ${err.message}`
        }
        if (!officialValid) invalidCount++
        if (officialValid !== ours) disagreements.push(`${name} ${m.label}: official ${officialValid ? 'valid' : 'invalid'}, ours ${ours ? 'valid' : `invalid (${why})`}`)
      }
    }
    expect(disagreements.slice(0, 25)).toEqual([])
    // the mutations must exercise both verdicts, or the comparison proves nothing
    expect(total).toBeGreaterThan(10_000)
    expect(invalidCount).toBeGreaterThan(total / 4)
    expect(total - invalidCount).toBeGreaterThan(total / 10)
  })

  it('generates schemas equivalent to the official ones (up to annotations)', () => {
    const ours = new Map(buildSchemaFiles().map(f => [f.path, f.schema]))
    const pairs: Array<[string, string]> = []
    for (const file of official!.files.keys()) {
      if (file === 'custom/schema.json') { pairs.push([file, 'custom.json']); continue }
      // our embeddedlinksarray dispatches on linkType instead of an anyOf; the mutations above cover it
      if (file.endsWith('/embeddedlinksarray.json')) continue
      if (file.startsWith('schemas/links/')) { pairs.push([file, `links/${path.posix.basename(file)}`]); continue }
      const schema = official!.files.get(file) as { properties: { context: { properties: { type: { enum: string[] } } } } }
      const [, , subject, predicate] = (schema.properties.context.properties.type.enum[0] as string).split('.')
      pairs.push([file, `${subject}-${predicate}.json`])
    }
    expect(pairs).toHaveLength(53)
    for (const [officialFile, ourFile] of pairs) {
      expect(ours.has(ourFile), ourFile).toBe(true)
      expect(normalize(ours.get(ourFile)), `${ourFile} vs ${officialFile}`).toEqual(normalize(official!.files.get(officialFile)))
    }
  })
})
