/**
 * The only module that reads the config file and process.env (STYLE rule 12).
 * Precedence: defaults < config file < CDGOSSIP_* environment < CLI flags.
 * Validated once against one schema that rejects unknown keys, and with the validators `start`
 * runs later (trust entries, subscriptions, relay patterns, multiaddrs), so a configuration that
 * loads is one the node starts with. Every problem of every layer is reported in a single
 * ConfigError, each naming its file and path; the result is deep-frozen.
 *
 * Its parts, each one concern: config-schema.ts (the shape, defaults and file schema),
 * config-flags.ts (the command line and environment layers), config-problems.ts (the checks
 * behind each message). Other modules import them through this one.
 */
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { Ajv } from 'ajv'
import { parse as parseYaml } from 'yaml'
import { CdgossipError } from './errors.js'
import {
  FILE_KEY, ajvProblem, bootstrapAddressProblem, childPath, formatProblem, listenAddressProblem, relayPatternProblem,
  sourceProblems, subscriptionProblems, trustEntryProblems, type ConfigProblem
} from './config-problems.js'
import { CONFIG_FILE_NAMES, CONFIG_FILE_SCHEMA, DEFAULT_DATA_DIR, NETWORK_RULE, defaultConfig, hostPortProblem, type ConfigFile, type NodeConfig, type TrustEntryConfig } from './config-schema.js'
import { ENV_NAMES, FLAGS_SOURCE, FLAG_KEYS, applyFlags, envFlags, type ConfigFlags } from './config-flags.js'

export type { ConfigProblem } from './config-problems.js'
export { selfTrustProblems } from './config-problems.js'
export * from './config-schema.js'
export * from './config-flags.js'

/**
 * Every problem of a configuration, one line each (`<file>: <path>: <message>`): `start` and
 * `config check` print this message as it is.
 */
export class ConfigError extends CdgossipError<{ problems: ConfigProblem[] }> {
  constructor (problems: ConfigProblem[]) {
    const lines = problems.map(formatProblem)
    super('CDG_CONFIG', lines.length === 1 ? `invalid configuration: ${lines[0] ?? ''}` : `invalid configuration (${lines.length} problems):\n${lines.map(l => `  ${l}`).join('\n')}`, { details: { problems } })
    this.name = 'ConfigError'
  }
}

// verbose: errors carry the refused value, so a message can say what it got
const ajv = new Ajv({ allErrors: true, strict: true, verbose: true })
const validateConfigFile = ajv.compile(CONFIG_FILE_SCHEMA)

interface SchemaNode { properties?: Record<string, SchemaNode>, items?: SchemaNode }

/** The keys the schema knows at a path in the file's terms (`api`, `trust.communities[0]`), for did-you-mean. */
function knownKeysAt (path: string): readonly string[] {
  let node: SchemaNode | undefined = CONFIG_FILE_SCHEMA as unknown as SchemaNode
  for (const part of path.split(/\.|(?=\[)/).filter(p => p !== '')) node = part.startsWith('[') ? node?.items : node?.properties?.[part]
  return Object.keys(node?.properties ?? {})
}

/** Everything wrong with a parsed config file, each problem naming `source` (the file). */
export function configFileProblems (value: unknown, source: string): ConfigProblem[] {
  if (value === null || value === undefined) return []
  const problems: ConfigProblem[] = validateConfigFile(value) ? [] : (validateConfigFile.errors ?? []).map(err => ajvProblem(err, knownKeysAt))
    .map(p => p.key === 'network' && p.message.startsWith('must match pattern') ? { ...p, message: `${NETWORK_RULE}, got ${JSON.stringify((value as { network?: unknown }).network)}` } : p)
  // the schema checked the shape of the lists; their entries get the checks `start` runs
  const file = value as { p2p?: { listen?: unknown, bootstrap?: unknown, relay?: unknown }, trust?: { communities?: unknown }, subscriptions?: unknown, hooks?: { listen?: unknown }, sources?: unknown }
  const list = (v: unknown): unknown[] => Array.isArray(v) ? v : []
  const each = (v: unknown, key: string, check: (s: string) => string | undefined): void => {
    list(v).forEach((item, i) => {
      const message = typeof item === 'string' && item !== '' ? check(item) : undefined
      if (message !== undefined) problems.push({ key: childPath(key, i), message })
    })
  }
  if (typeof file === 'object' && !Array.isArray(file)) {
    each(file.p2p?.listen, 'p2p.listen', listenAddressProblem)
    each(file.p2p?.bootstrap, 'p2p.bootstrap', bootstrapAddressProblem)
    each(file.p2p?.relay, 'p2p.relay', relayPatternProblem)
    problems.push(...trustEntryProblems(list(file.trust?.communities), 'trust.communities'))
    problems.push(...subscriptionProblems(list(file.subscriptions), 'subscriptions'))
    problems.push(...sourceProblems(list(file.sources), 'sources'))
    const hooksListen = file.hooks?.listen
    const listenProblem = typeof hooksListen === 'string' && hooksListen !== '' ? hostPortProblem(hooksListen) : undefined
    if (listenProblem !== undefined) problems.push({ key: 'hooks.listen', message: listenProblem })
  }
  return problems.map(p => ({ ...p, source }))
}

/** Validate a parsed config file; throws one ConfigError naming every problem. */
export function checkConfigFile (value: unknown, source: string): ConfigFile {
  const problems = configFileProblems(value, source)
  if (problems.length > 0) throw new ConfigError(problems)
  return (value ?? {}) as ConfigFile
}

/**
 * Finds and parses the data dir's config file (YAML or JSON); undefined when there is none.
 * Two of them is an error: whichever one won, edits to the other would be silently ignored.
 */
export async function readConfigFile (dataDir: string): Promise<{ path: string, config: ConfigFile } | undefined> {
  const file = await readConfigLayer(dataDir)
  if (file.problems.length > 0) throw new ConfigError(file.problems)
  return file.path === undefined ? undefined : { path: file.path, config: file.config }
}

/** The config file as a layer: its path (when there is one), its settings, and what is wrong with it. */
async function readConfigLayer (dataDir: string): Promise<{ path?: string, config: ConfigFile, problems: ConfigProblem[] }> {
  const found: Array<{ path: string, name: string, text: string }> = []
  for (const name of CONFIG_FILE_NAMES) {
    const path = join(dataDir, name)
    try {
      found.push({ path, name, text: await readFile(path, 'utf8') })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue
      throw err
    }
  }
  if (found.length > 1) {
    return { config: {}, problems: [{ source: dataDir, key: FILE_KEY, message: `more than one config file (${found.map(f => f.name).join(', ')}): keep one` }] }
  }
  const [file] = found
  if (file === undefined) return { config: {}, problems: [] }
  let parsed: unknown
  try {
    parsed = file.name.endsWith('.json') ? JSON.parse(file.text) : parseYaml(file.text)
  } catch (err) {
    // older versions of init wrote a body of `{}`, which ends the document: say so, it is not obvious
    const hint = /^\{\}\s*$/m.test(file.text) && file.text.split('\n').some(l => /^[A-Za-z]/.test(l)) ? ' (the `{}` line, as older versions of cdgossip init wrote it, is a whole document: delete it and keep your settings)' : ''
    return { path: file.path, config: {}, problems: [{ source: file.path, key: FILE_KEY, message: `not valid ${file.name.endsWith('.json') ? 'JSON' : 'YAML'}${hint}: ${(err as Error).message.trimEnd()}` }] }
  }
  const problems = configFileProblems(parsed, file.path)
  return { path: file.path, config: problems.length > 0 ? {} : (parsed ?? {}) as ConfigFile, problems }
}

/** Resolve the data dir alone (flags, then env, then the default), for commands that need nothing else. */
export function resolveDataDir (flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env): string {
  // an empty variable is unset: resolve('') would make the current directory the data dir
  return resolve(flags.dataDir ?? (env.CDGOSSIP_DATA_DIR === '' ? undefined : env.CDGOSSIP_DATA_DIR) ?? DEFAULT_DATA_DIR)
}

function deepFreeze<T> (value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}

/** Merge defaults, the data dir's config file, environment and flags; validate; freeze. */
export async function loadConfig (flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env): Promise<Readonly<NodeConfig>> {
  return (await loadConfigWithSource(flags, env)).config
}

/**
 * loadConfig, also saying which config file it read (undefined: none, defaults only). Problems of
 * the file, the environment and the flags are reported together, so one run shows them all.
 */
export async function loadConfigWithSource (flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env): Promise<{ config: Readonly<NodeConfig>, file: string | undefined }> {
  const fromEnv = envFlags(env)
  const dataDir = resolveDataDir(flags, env)
  const config = defaultConfig(dataDir)
  const file = await readConfigLayer(dataDir)
  applyFile(config, file.config)
  // two layers, applied in order, so a flag beats the environment even where both feed one key
  // (--listen after CDGOSSIP_P2P_PORT)
  const problems = [...file.problems, ...fromEnv.problems, ...applyFlags(config, fromEnv.flags, ENV_NAMES), ...applyFlags(config, flags, FLAG_KEYS, FLAGS_SOURCE)]
  if (problems.length > 0) throw new ConfigError(problems)
  return { config: deepFreeze(config), file: file.path }
}

function applyFile (config: NodeConfig, file: ConfigFile): void {
  if (file.network !== undefined) config.network = file.network
  Object.assign(config.api, file.api ?? {})
  Object.assign(config.p2p, file.p2p ?? {})
  Object.assign(config.sync, file.sync ?? {})
  Object.assign(config.trace, file.trace ?? {})
  if (file.trust?.mode !== undefined) config.trust.mode = file.trust.mode
  if (file.trust?.communities !== undefined) config.trust.communities = file.trust.communities as TrustEntryConfig[]
  if (file.subscriptions !== undefined) config.subscriptions = file.subscriptions
  Object.assign(config.hooks, file.hooks ?? {})
  if (file.sources !== undefined) config.sources = file.sources
  Object.assign(config.community, file.community ?? {})
  Object.assign(config.log, file.log ?? {})
}

/**
 * A source's secret from the environment variable it names (config.ts is the one module that
 * reads process.env); undefined when unset or empty.
 */
export function secretFromEnvironment (variable: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[variable]
  return value === undefined || value === '' ? undefined : value
}

const HIDDEN = '(hidden)'

/** A URL with its password and query values hidden (webhook receivers often take a token there). */
export function maskWebhookUrl (raw: string): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return raw
  }
  if (url.password !== '') url.password = HIDDEN
  for (const key of [...url.searchParams.keys()]) url.searchParams.set(key, HIDDEN)
  return url.toString()
}

/**
 * The configuration as `config show` and GET /v1/config show it: webhook headers (auth tokens for
 * the receiver) and URL credentials and query values are hidden, so the output can be pasted into
 * an issue. The API token and identity key are never part of a configuration.
 */
export function maskConfigSecrets (config: Readonly<NodeConfig>): Record<string, unknown> {
  const subscriptions = config.subscriptions.map(sub => {
    const sink = sub.sink as { url?: unknown, headers?: unknown } | undefined
    if (typeof sink !== 'object' || sink === null) return sub
    const masked: Record<string, unknown> = { ...sink }
    if (typeof sink.url === 'string') masked.url = maskWebhookUrl(sink.url)
    if (typeof sink.headers === 'object' && sink.headers !== null) masked.headers = Object.fromEntries(Object.keys(sink.headers).map(k => [k, HIDDEN]))
    return { ...sub, sink: masked }
  })
  return { ...config, subscriptions }
}
