import { readFile } from 'node:fs/promises'
import type { Logger } from 'pino'
import { CdgossipError } from '../errors.js'
import { secretFromEnvironment, splitHostPort } from '../config.js'
import { assertPrivateFile } from '../data-dir.js'
import {
  ConfigSourceError, InvalidSourceError, MAX_SOURCES, SourceSecretError, sourceKind, toDelivery, translateDelivery, validateSourceInput,
  type ActiveSource, type HooksListener, type Source, type SourceInput
} from '../hooks/index.js'
import { NotFoundError } from '../api/index.js'
import type { SourceTestInput, SourceTestResult, SourceView } from '../contracts/node-facade.js'
import type { StateSection } from '../contracts/state-section.js'

/**
 * The node's side of the tool webhook sources: loading them (config file and store) with their
 * secrets read, managing them at run time (GET/POST/DELETE /v1/sources, the test route), and
 * running the hooks listener while at least one source exists.
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

export interface HookSourcesComponents {
  hooks: HooksListener
  /** where API sources persist */
  section: StateSection<Source>
  log: Logger
}

export interface HookSourcesInit {
  /** `hooks.listen`, host:port */
  listen: string
}

/**
 * The sources a running node knows, shared with the hooks listener's lookup: adding the first
 * starts the listener, removing the last stops it. Config file sources cannot be removed here.
 */
export class HookSources {
  private readonly entries: Map<string, SourceEntry>
  private readonly hooks: HooksListener
  private readonly section: StateSection<Source>
  private readonly log: Logger
  private readonly listen: string

  constructor (entries: Map<string, SourceEntry>, components: HookSourcesComponents, init: HookSourcesInit) {
    this.entries = entries
    this.hooks = components.hooks
    this.section = components.section
    this.log = components.log
    this.listen = init.listen
  }

  /** the source the listener authenticates and translates a delivery with; undefined answers 404 */
  active (name: string): ActiveSource | undefined {
    return this.entries.get(name)?.active
  }

  /** Starts the listener when there is a source to serve. */
  async startListener (): Promise<void> {
    if (this.entries.size === 0 || this.hooks.listening) return
    const url = await startHooksListener(this.hooks, this.listen)
    this.log.info({ url, sources: [...this.entries.keys()] }, 'hooks listener started')
  }

  list (): SourceView[] {
    return [...this.entries.values()].map(e => ({
      ...e.source,
      status: e.active === undefined ? 'unavailable' : 'active',
      ...(e.problem === undefined ? {} : { problem: e.problem }),
      counts: this.hooks.countsOf(e.source.name)
    }))
  }

  async add (input: SourceInput): Promise<SourceView> {
    const valid = validateSourceInput(input)
    if (this.entries.has(valid.name)) throw new InvalidSourceError('name', `source ${valid.name} already exists`)
    if (this.entries.size >= MAX_SOURCES) throw new InvalidSourceError('name', `at most ${MAX_SOURCES} sources`)
    const source: Source = { ...valid, origin: 'api', createdAt: new Date().toISOString() }
    let active: ActiveSource
    try {
      active = await activateSource(source)
    } catch (err) {
      // the caller's to fix (a path, a mode, a variable): 400, not the 500 of a broken config
      if (err instanceof SourceSecretError) throw new InvalidSourceError(source.secretEnv === undefined ? 'secretFile' : 'secretEnv', err.message)
      throw err
    }
    await this.section.put(source.name, source)
    this.entries.set(source.name, { source, active })
    await this.startListener()
    return { ...source, status: 'active', counts: this.hooks.countsOf(source.name) }
  }

  async remove (name: string): Promise<boolean> {
    const entry = this.entries.get(name)
    if (entry === undefined) return false
    if (entry.source.origin === 'config') throw new ConfigSourceError(name)
    await this.section.del(name)
    this.entries.delete(name)
    this.hooks.forget(name)
    if (this.entries.size === 0) {
      await this.hooks.stop()
      this.log.info('hooks listener stopped: no source left')
    }
    return true
  }

  /** What a payload would become with the source's settings; checks no credential, publishes nothing. */
  async test (name: string, input: SourceTestInput): Promise<SourceTestResult> {
    const entry = this.entries.get(name)
    if (entry === undefined) throw new NotFoundError(`no source ${name}`)
    // an unavailable source (unreadable secret) still translates: the test checks no credential
    const active = entry.active ?? (() => {
      const kind = sourceKind(entry.source.kind)
      if (kind === undefined) throw new NotFoundError(`source ${name} has no kind in this version`)
      return { source: entry.source, kind, settings: kind.parseSettings(entry.source.settings), secrets: { current: '' } }
    })()
    const lower = Object.fromEntries(Object.entries(input.headers).map(([k, v]) => [k.toLowerCase(), v]))
    const translation = await translateDelivery(active, toDelivery(lower, input.body))
    return translation.kind === 'ignored' ? { ignored: translation.reason } : { events: translation.events }
  }
}
