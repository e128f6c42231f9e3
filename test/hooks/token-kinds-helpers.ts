/**
 * Shared by the tests of the jenkins, nexus, harbor, cdevents and generic kinds: deliveries built
 * from fixture files, credentials as the tools send them, and the check of every produced event
 * against the official CDEvents 0.5.1 schemas (compiled with their own Ajv, as
 * test/events/differential.test.ts does).
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { expect } from 'vitest'
import { validateCDEvent } from '../../src/events/index.js'
import { loadOfficialSchemas, SPEC_AVAILABLE } from '../events/cdevents-spec.js'
import type { ValidateFunction } from 'ajv'
import type { HookDelivery, Translation } from '../../src/hooks/types.js'
import type { CDEvent } from '../../src/events/types.js'

const addFormats = addFormatsModule.default
const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures')

/** The raw bytes of a fixture, exactly as a tool would post them. */
export function fixtureBytes (kind: string, name: string): Uint8Array {
  return new Uint8Array(fs.readFileSync(path.join(FIXTURES, kind, name)))
}

export function fixtureJson (kind: string, name: string): Record<string, any> {
  return JSON.parse(Buffer.from(fixtureBytes(kind, name)).toString('utf8')) as Record<string, any>
}

export function delivery (body: Uint8Array | string | object, headers: Record<string, string> = {}): HookDelivery {
  const bytes = body instanceof Uint8Array ? body : new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body))
  const lower: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v
  return { headers: lower, body: bytes }
}

export function bearer (token: string): string {
  return `Bearer ${token}`
}

export function basic (user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
}

let official: ((type: string) => ValidateFunction) | undefined

function officialValidator (): (type: string) => ValidateFunction {
  if (official !== undefined) return official
  const schemas = loadOfficialSchemas()
  const ajv = new Ajv2020({ strict: false, allErrors: true })
  addFormats(ajv)
  for (const link of schemas.links) ajv.addSchema(link)
  const custom = ajv.compile(schemas.custom)
  const byType = new Map<string, ValidateFunction>()
  for (const [type, schema] of schemas.events) byType.set(type, ajv.compile(schema))
  official = (type: string) => byType.get(type) ?? custom
  return official
}

/** The event validates with the project's validator and, when the spec files are there, the official schemas. */
export function expectValid (event: CDEvent): void {
  expect(() => validateCDEvent(event)).not.toThrow()
  if (!SPEC_AVAILABLE) return
  const validate = officialValidator()(event.context.type)
  const ok = validate(JSON.parse(JSON.stringify(event)))
  expect(validate.errors ?? [], `official schema for ${event.context.type}`).toEqual([])
  expect(ok).toBe(true)
}

/** The events of a translation, each checked valid; fails the test when the delivery was ignored. */
export function eventsOf (translation: Translation): CDEvent[] {
  if (translation.kind !== 'events') throw new Error(`expected events, got ignored: ${translation.reason}`)
  for (const event of translation.events) expectValid(event)
  return translation.events
}

/** The fields of a CDEvent the tests look at, loosely typed. */
export function content (event: CDEvent): Record<string, any> {
  return event.subject.content as Record<string, any>
}
