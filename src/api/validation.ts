import { Ajv, type Options as AjvOptions } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { FastifySchemaCompiler } from 'fastify'

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default

/**
 * Fastify's Ajv defaults, changed where they would weaken the schemas as the API's only check:
 * - removeAdditional off, so `additionalProperties: false` refuses unknown fields instead of
 *   silently dropping them;
 * - allErrors stays off (Fastify's advice: with it, crafted input can make validation costly);
 * - strict on, so a typo in a schema keyword fails at startup rather than validating nothing.
 */
const BASE_OPTIONS: AjvOptions = {
  removeAdditional: false,
  useDefaults: true,
  allErrors: false,
  strict: true
}

/**
 * Query strings, path params and headers arrive as strings and need coercion (`limit=10` is a
 * number, a repeated parameter is an array). Bodies are JSON and are checked as sent: coercing
 * there would quietly turn `"id": 5` into `"5"` in a CloudEvent the node then signs.
 */
export function createValidatorCompiler (): FastifySchemaCompiler<unknown> {
  const coercing = withFormats(new Ajv({ ...BASE_OPTIONS, coerceTypes: 'array' }))
  const exact = withFormats(new Ajv({ ...BASE_OPTIONS, coerceTypes: false }))
  return ({ schema, httpPart }) => (httpPart === 'body' ? exact : coercing).compile(schema as object)
}

function withFormats (ajv: Ajv): Ajv {
  addFormats(ajv)
  return ajv
}
