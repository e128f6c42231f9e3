import { CdgossipError, InvalidRequestError } from '../errors.js'
import { sourceKind } from './registry.js'
import { SOURCE_KIND_NAMES, type SourceKindName } from './types.js'

/**
 * What a source is (a configured tool webhook: name, kind, where its secret is, the kind's
 * settings) and the one validator the config file and POST /v1/sources share, so a file is
 * refused exactly where a POST would be.
 */

/** Lowercase letters, digits and dashes: the name is a URL path segment and a metrics label value. */
export const SOURCE_NAME_REGEX = '^[a-z0-9][a-z0-9-]{0,62}$'
const SOURCE_NAME = new RegExp(SOURCE_NAME_REGEX)
export const SOURCE_NAME_RULE = 'must be 1-63 lowercase letters, digits and dashes, starting with a letter or digit'
/**
 * Most sources one node has: a node fronts a community's handful of tools, and every source is a
 * series of `cdgossip_hook_deliveries_total`, so this also bounds that metric's label.
 */
export const MAX_SOURCES = 64
/** Longest secret file path or variable name accepted: far above any real one. */
export const MAX_SECRET_REF_LENGTH = 4096
/** Environment variable names as POSIX shells write them. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** A source as the config file and POST /v1/sources give it. Secrets are referenced, never given. */
export interface SourceInput {
  name: string
  kind: SourceKindName
  secretFile?: string
  secretEnv?: string
  previousSecretFile?: string
  previousSecretEnv?: string
  /** the kind's own settings, as its parseSettings accepts them */
  settings?: Record<string, unknown>
}

/** A source the node knows: where it came from (config file sources cannot be removed over the API). */
export interface Source extends SourceInput {
  origin: 'config' | 'api'
  createdAt: string
}

/** The keys of a source entry, for unknown-field messages. */
export const SOURCE_FIELDS = ['name', 'kind', 'secretFile', 'secretEnv', 'previousSecretFile', 'previousSecretEnv', 'settings'] as const

/** A source entry that is not valid; `field` is its path inside the entry (`settings.url`, `secretFile`). */
export class InvalidSourceError extends InvalidRequestError {
  declare readonly details: { field: string }

  constructor (field: string, message: string) {
    super(message, { field })
    this.name = 'InvalidSourceError'
  }
}

/** Sources from the config file are removed by editing the file, not over the API. */
export class ConfigSourceError extends InvalidRequestError {
  constructor (name: string) {
    super(`source ${name} comes from the config file; remove it there and restart`, { name })
    this.name = 'ConfigSourceError'
  }
}

/** A source's secret cannot be read (missing file, readable by others, unset variable). */
export class SourceSecretError extends CdgossipError {
  constructor (name: string, message: string) {
    super('CDG_CONFIG', `source ${name}: ${message}`)
    this.name = 'SourceSecretError'
  }
}

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function secretRef (input: Record<string, unknown>, field: string): string | undefined {
  const value = input[field]
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value === '' || value.length > MAX_SECRET_REF_LENGTH) throw new InvalidSourceError(field, `${field} must be a non-empty string`)
  if (field.endsWith('Env') && !ENV_NAME.test(value)) throw new InvalidSourceError(field, `${field} must be an environment variable name (letters, digits, underscores), got ${JSON.stringify(value.slice(0, 64))}`)
  return value
}

/**
 * The field a kind's settings error names (`"url" must be …`, `unknown field "x"`), so the
 * message can point at `settings.url`; the settings as a whole when it names none.
 */
function settingsField (message: string): string {
  const m = /"([A-Za-z0-9_.$-]+)"/.exec(message)
  return m === null ? 'settings' : `settings.${m[1] ?? ''}`
}

/**
 * Validate and normalise a source entry; throws InvalidSourceError naming the field. The kind's
 * settings go through the kind's own parseSettings, so a bad URL is refused here, not at the
 * first delivery.
 */
export function validateSourceInput (input: unknown): SourceInput {
  if (!isRecord(input)) throw new InvalidSourceError('source', 'a source must be an object')
  for (const key of Object.keys(input)) {
    if (!(SOURCE_FIELDS as readonly string[]).includes(key)) throw new InvalidSourceError(key, `unknown field ${key}`)
  }
  const { name, kind } = input
  if (name === undefined) throw new InvalidSourceError('name', 'name is required')
  if (typeof name !== 'string' || !SOURCE_NAME.test(name)) throw new InvalidSourceError('name', `name ${SOURCE_NAME_RULE}, got ${JSON.stringify(typeof name === 'string' ? name.slice(0, 80) : name)}`)
  if (kind === undefined) throw new InvalidSourceError('kind', 'kind is required')
  if (typeof kind !== 'string' || !(SOURCE_KIND_NAMES as readonly string[]).includes(kind)) {
    throw new InvalidSourceError('kind', `kind must be one of ${SOURCE_KIND_NAMES.join(', ')}, got ${JSON.stringify(typeof kind === 'string' ? kind.slice(0, 40) : kind)}`)
  }
  const impl = sourceKind(kind)
  if (impl === undefined) throw new InvalidSourceError('kind', `kind ${kind} is not available in this version of cdgossip`)
  const out: SourceInput = { name, kind: kind as SourceKindName }
  const secretFile = secretRef(input, 'secretFile')
  const secretEnv = secretRef(input, 'secretEnv')
  if ((secretFile === undefined) === (secretEnv === undefined)) throw new InvalidSourceError(secretFile === undefined ? 'secretFile' : 'secretEnv', 'give exactly one of secretFile and secretEnv')
  if (secretFile !== undefined) out.secretFile = secretFile
  if (secretEnv !== undefined) out.secretEnv = secretEnv
  const previousFile = secretRef(input, 'previousSecretFile')
  const previousEnv = secretRef(input, 'previousSecretEnv')
  if (previousFile !== undefined && previousEnv !== undefined) throw new InvalidSourceError('previousSecretEnv', 'give at most one of previousSecretFile and previousSecretEnv')
  if (previousFile !== undefined) out.previousSecretFile = previousFile
  if (previousEnv !== undefined) out.previousSecretEnv = previousEnv
  if (input.settings !== undefined && !isRecord(input.settings)) throw new InvalidSourceError('settings', 'settings must be a mapping (key: value)')
  try {
    impl.parseSettings(input.settings)
  } catch (err) {
    if (!(err instanceof InvalidRequestError)) throw err
    throw new InvalidSourceError(settingsField(err.message), err.message)
  }
  if (input.settings !== undefined) out.settings = input.settings
  return out
}
