/**
 * Shared by the github, gitlab and gerrit kind tests: deliveries built from fixture bytes, and
 * the check that every produced event is valid for cdgossip's validator AND for the official
 * CDEvents v0.5.1 schemas in ../shared/cdevents-spec (compiled once, with their own Ajv).
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { expect } from 'vitest'
import { validateCDEvent } from '../../src/events/index.js'
import { loadOfficialSchemas, SKIP_REASON, SPEC_AVAILABLE } from '../events/cdevents-spec.js'
import type { ValidateFunction } from 'ajv'
import type { CDEvent } from '../../src/events/types.js'
import type { HookDelivery, Translation } from '../../src/hooks/types.js'

const addFormats = addFormatsModule.default

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures')

/** A fixture's bytes exactly as stored: what a tool would send. */
export function fixtureBytes (kind: string, name: string): Buffer {
  return fs.readFileSync(path.join(FIXTURES, kind, name))
}

/** A fixture parsed, to derive another documented action or status from it. */
export function fixtureJson (kind: string, name: string): Record<string, any> {
  return JSON.parse(fixtureBytes(kind, name).toString('utf8')) as Record<string, any>
}

export function bytes (value: unknown): Buffer {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value))
}

export function delivery (headers: Record<string, string>, body: Uint8Array): HookDelivery {
  const lower: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v
  return { headers: lower, body }
}

let official: ((type: string) => ValidateFunction | undefined) | undefined

function officialFor (type: string): ValidateFunction | undefined {
  if (official === undefined) {
    const schemas = loadOfficialSchemas()
    const ajv = new Ajv2020({ strict: false, allErrors: true })
    addFormats(ajv)
    for (const link of schemas.links) ajv.addSchema(link)
    const byType = new Map<string, ValidateFunction>()
    for (const [t, schema] of schemas.events) byType.set(t, ajv.compile(schema))
    official = (t: string) => byType.get(t)
  }
  return official(type)
}

/** Valid for cdgossip's validator and, when ../shared/cdevents-spec is present, for the official schema of its type. */
export function expectValidEvent (event: CDEvent): void {
  expect(() => validateCDEvent(structuredClone(event))).not.toThrow()
  if (!SPEC_AVAILABLE) {
    console.warn(SKIP_REASON)
    return
  }
  const validate = officialFor(event.context.type)
  expect(validate, `no official schema for ${event.context.type}`).toBeDefined()
  const ok = validate!(structuredClone(event))
  expect(ok, `${event.context.type}: ${JSON.stringify(validate!.errors)}`).toBe(true)
}

/** The events of a translation, each checked valid; fails when the delivery was ignored. */
export function eventsOf (translation: Translation): CDEvent[] {
  if (translation.kind !== 'events') throw new Error(`expected events, got ignored: ${translation.reason}`)
  for (const event of translation.events) expectValidEvent(event)
  return translation.events
}

/** The single event of a translation, checked valid. */
export function onlyEvent (translation: Translation): CDEvent {
  const events = eventsOf(translation)
  expect(events).toHaveLength(1)
  return events[0] as CDEvent
}
