import { readFile } from 'node:fs/promises'
import type { Logger } from 'pino'
import { CdgossipError } from '../errors.js'
import { secretFromEnvironment, splitHostPort } from '../config.js'
import { assertPrivateFile } from '../data-dir.js'
import { SourceSecretError, sourceKind, validateSourceInput, type ActiveSource, type HooksListener, type Source } from '../hooks/index.js'
import type { StateSection } from '../contracts/state-section.js'

/**
 * The node's side of the tool webhook sources: loading them (config file and store) with their
 * secrets read, and starting the hooks listener where the configuration says.
 */

/** A source the node knows; `active` once its secret is read (absent: `problem` says why). */
export interface SourceEntry {
  source: Source
  active?: ActiveSource
  problem?: string
}

/**
 * Sources of the config file and of the API, each with its secret read. A config file source
 * whose secret cannot be read fails the start (like a bad key file); an API source is kept,
 * unavailable, with the problem in GET /v1/sources, so it can still be removed.
 */
export async function loadSources (configSources: ReadonlyArray<Record<string, unknown>>, stored: StateSection<Source>, log: Logger): Promise<Map<string, SourceEntry>> {
  const sources = new Map<string, SourceEntry>()
  const startedAt = new Date().toISOString()
  for (const input of configSources) {
    const source: Source = { ...validateSourceInput(input), origin: 'config', createdAt: startedAt }
    sources.set(source.name, { source, active: await activateSource(source) })
  }
  for await (const [name, source] of stored.entries()) {
    if (sources.has(name)) {
      log.warn({ source: name }, 'a source added over the API now also exists in the config file: the config file entry is used')
      continue
    }
    try {
      sources.set(name, { source, active: await activateSource(source) })
    } catch (err) {
      if (!(err instanceof SourceSecretError)) throw err
      log.error({ source: name, problem: err.message }, 'source unavailable: its deliveries are answered 404 until the secret can be read at a start')
      sources.set(name, { source, problem: err.message })
    }
  }
  return sources
}

/** The source's kind, parsed settings and secrets, read now (rotation: restart, or remove and add). */
export async function activateSource (source: Source): Promise<ActiveSource> {
  const kind = sourceKind(source.kind)
  if (kind === undefined) throw new SourceSecretError(source.name, `kind ${source.kind} is not available in this version of cdgossip`)
  const current = await readSecret(source.name, source.secretFile, source.secretEnv, 'secret')
  const previous = source.previousSecretFile !== undefined || source.previousSecretEnv !== undefined
    ? await readSecret(source.name, source.previousSecretFile, source.previousSecretEnv, 'previous secret')
    : undefined
  return { source, kind, settings: kind.parseSettings(source.settings), secrets: previous === undefined ? { current } : { current, previous } }
}

async function readSecret (name: string, file: string | undefined, env: string | undefined, what: string): Promise<string> {
  if (env !== undefined) {
    const value = secretFromEnvironment(env)
    if (value === undefined) throw new SourceSecretError(name, `the ${what} variable ${env} is not set (or empty) in the node's environment`)
    return value
  }
  if (file === undefined) throw new SourceSecretError(name, `no ${what} file or variable`)
  let text: string
  try {
    // the same rule as the identity key and the API token: nobody else may read it
    await assertPrivateFile(file, `source ${name} ${what} file`)
    text = await readFile(file, 'utf8')
  } catch (err) {
    if (err instanceof CdgossipError) throw new SourceSecretError(name, err.message)
    throw new SourceSecretError(name, `cannot read the ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  // a file written with `echo` ends in a newline that is no part of the secret
  const secret = text.replace(/\r?\n$/, '')
  if (secret === '') throw new SourceSecretError(name, `the ${what} file ${file} is empty`)
  return secret
}

/** Starts the listener at `hooks.listen` (config.ts checked it is host:port); returns its URL. */
export async function startHooksListener (hooks: HooksListener, listen: string): Promise<string> {
  const where = splitHostPort(listen)
  if (where === undefined) throw new SourceSecretError('hooks', `hooks.listen ${listen} is not host:port`)
  return await hooks.start(where.host, where.port)
}
