import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { Ajv } from 'ajv'
import { parse as parseYaml } from 'yaml'
import { CdgossipError } from './errors.js'
import {
  FILE_KEY, ajvProblem, bootstrapAddressProblem, childPath, formatProblem, listenAddressProblem, relayPatternProblem,
  sourceProblems, subscriptionProblems, trustEntryProblems, type ConfigProblem
} from './config-problems.js'

export type { ConfigProblem } from './config-problems.js'
export { selfTrustProblems } from './config-problems.js'

/**
 * The only module that reads the config file and process.env (STYLE rule 12).
 * Precedence: defaults < config file < CDGOSSIP_* environment < CLI flags.
 * Validated once against one schema that rejects unknown keys, and with the validators `start`
 * runs later (trust entries, subscriptions, relay patterns, multiaddrs), so a configuration that
 * loads is one the node starts with. Every problem of every layer is reported in a single
 * ConfigError, each naming its file and path; the result is deep-frozen.
 */

export const DEFAULT_DATA_DIR = join(homedir(), '.cdgossip')
export const CONFIG_FILE_NAMES = ['config.yaml', 'config.yml', 'config.json'] as const
export const DEFAULT_API_PORT = 7070
export const DEFAULT_P2P_PORT = 4001
/** 1 MiB: a generous ceiling for one CDEvent or a batch over HTTP; bigger belongs in an artifact store. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024
export const DEFAULT_NETWORK = 'cdgossip'
/** The hooks listener's port: next to the API's, and like it on loopback until a proxy fronts it. */
export const DEFAULT_HOOKS_PORT = 7071
/** 1 MiB: the hooks listener's body limit (hooks/listener.ts DEFAULT_HOOKS_BODY_LIMIT says why). */
export const DEFAULT_HOOKS_BODY_LIMIT = 1024 * 1024

export interface TrustEntryConfig {
  peerId: string
  name: string
  sources: string[]
  classes?: string[]
}

export interface NodeConfig {
  dataDir: string
  /** gossip network name: topics are `cdgossip/<network>/<class>` */
  network: string
  api: {
    host: string
    port: number
    bodyLimit: number
  }
  p2p: {
    listen: string[]
    bootstrap: string[]
    mdns: boolean
    /** class patterns forwarded for others without being stored here */
    relay: string[]
    heartbeatMs: number
    /** dial peers found by peer exchange or remembered until this many are connected */
    targetConnections: number
  }
  sync: {
    intervalSeconds: number
  }
  trust: {
    mode: 'allowlist' | 'open'
    communities: TrustEntryConfig[]
  }
  /** subscription inputs as accepted by POST /v1/subscriptions */
  subscriptions: Array<Record<string, unknown>>
  /** the webhook listener for tools (README, Tools in); it listens only while a source exists */
  hooks: {
    /** `host:port` (`[::1]:7071` for IPv6) */
    listen: string
    bodyLimit: number
  }
  /** tool webhook sources as accepted by POST /v1/sources (secrets referenced by file or variable) */
  sources: Array<Record<string, unknown>>
  log: {
    level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
    /** pretty human-readable lines; default: when stdout is a TTY */
    pretty?: boolean
  }
}

/** Everything a user may write in the config file (all optional; dataDir comes from flags/env). */
export type ConfigFile = DeepPartial<Omit<NodeConfig, 'dataDir'>>
type DeepPartial<T> = { [K in keyof T]?: T[K] extends Array<infer U> ? U[] : T[K] extends object ? DeepPartial<T[K]> : T[K] }

export function defaultConfig (dataDir: string = DEFAULT_DATA_DIR): NodeConfig {
  return {
    dataDir,
    network: DEFAULT_NETWORK,
    api: { host: '127.0.0.1', port: DEFAULT_API_PORT, bodyLimit: DEFAULT_BODY_LIMIT },
    p2p: {
      listen: [`/ip4/0.0.0.0/tcp/${DEFAULT_P2P_PORT}`],
      bootstrap: [],
      mdns: false,
      relay: [],
      // gossipsub's own default; tests and demos use shorter heartbeats for faster meshes
      heartbeatMs: 1000,
      // p2p's DEFAULT_TARGET_CONNECTIONS (not imported: config loads without libp2p)
      targetConnections: 8
    },
    sync: { intervalSeconds: 30 },
    trust: { mode: 'allowlist', communities: [] },
    subscriptions: [],
    hooks: { listen: `127.0.0.1:${DEFAULT_HOOKS_PORT}`, bodyLimit: DEFAULT_HOOKS_BODY_LIMIT },
    sources: [],
    log: { level: 'info' }
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
/** Lowercase, digits and dashes: the name becomes part of every gossip topic. */
const NETWORK_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/
/** NETWORK_PATTERN in words: users read messages, not regular expressions. */
const NETWORK_RULE = 'must be 1-63 lowercase letters, digits and dashes, starting with a letter or digit'

/**
 * Above this a node would hold a large share of a federation's connections itself, and libp2p's
 * own connection limits (300) come into view; a federation of tens of nodes needs far fewer.
 */
export const MAX_TARGET_CONNECTIONS = 100

const stringList = { type: 'array', items: { type: 'string', minLength: 1 } }

/** The one schema of the config file. Unknown keys are errors: a typo must not pass silently. */
export const CONFIG_FILE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    network: { type: 'string', pattern: NETWORK_PATTERN.source },
    api: {
      type: 'object',
      additionalProperties: false,
      properties: {
        host: { type: 'string', minLength: 1 },
        port: { type: 'integer', minimum: 0, maximum: 65535 },
        bodyLimit: { type: 'integer', minimum: 1024, maximum: 64 * 1024 * 1024 }
      }
    },
    p2p: {
      type: 'object',
      additionalProperties: false,
      properties: {
        listen: stringList,
        bootstrap: stringList,
        mdns: { type: 'boolean' },
        relay: stringList,
        heartbeatMs: { type: 'integer', minimum: 50, maximum: 60000 },
        targetConnections: { type: 'integer', minimum: 1, maximum: MAX_TARGET_CONNECTIONS }
      }
    },
    sync: {
      type: 'object',
      additionalProperties: false,
      properties: {
        intervalSeconds: { type: 'integer', minimum: 1, maximum: 86400 }
      }
    },
    trust: {
      type: 'object',
      additionalProperties: false,
      properties: {
        mode: { enum: ['allowlist', 'open'] },
        // each entry is checked by trust/'s validator, as POST /v1/trust does (config-problems.ts)
        communities: { type: 'array' }
      }
    },
    // each entry is checked by subscriptions/' validator, as POST /v1/subscriptions does (config-problems.ts)
    subscriptions: { type: 'array' },
    hooks: {
      type: 'object',
      additionalProperties: false,
      properties: {
        listen: { type: 'string', minLength: 1 },
        bodyLimit: { type: 'integer', minimum: 1024, maximum: 64 * 1024 * 1024 }
      }
    },
    // each entry is checked by hooks/' validator, as POST /v1/sources does (config-problems.ts)
    sources: { type: 'array' },
    log: {
      type: 'object',
      additionalProperties: false,
      properties: {
        level: { enum: LOG_LEVELS },
        pretty: { type: 'boolean' }
      }
    }
  }
} as const

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

/** Settings given on the command line; each overrides file and environment. */
export interface ConfigFlags {
  dataDir?: string
  network?: string
  apiHost?: string
  apiPort?: number
  p2pPort?: number
  listen?: string[]
  peers?: string[]
  mdns?: boolean
  relay?: string[]
  targetConnections?: number
  logLevel?: string
  /** the hooks listener's port (its host stays hooks.listen's) */
  hooksPort?: number
}

export const ENV_VARS = {
  CDGOSSIP_DATA_DIR: 'data directory',
  CDGOSSIP_NETWORK: 'network name',
  CDGOSSIP_API_HOST: 'REST API listen host',
  CDGOSSIP_API_PORT: 'REST API port',
  CDGOSSIP_P2P_PORT: 'libp2p TCP port (all interfaces)',
  CDGOSSIP_PEERS: 'comma-separated bootstrap multiaddrs (added to the config file\'s)',
  CDGOSSIP_MDNS: 'true/false: LAN discovery',
  CDGOSSIP_TARGET_CONNECTIONS: 'peers to stay connected to through discovery (p2p.targetConnections)',
  CDGOSSIP_LOG_LEVEL: 'log level',
  CDGOSSIP_API_URL: 'client commands: the node\'s REST URL',
  CDGOSSIP_TOKEN: 'client commands: the bearer token'
} as const

/** Decimal digits only: Number() would also take '', ' ', '0x1f' and '1e3'. */
const PORT_PATTERN = /^[0-9]{1,5}$/

/** A port number from text, or undefined when it is not one. */
export function parsePort (raw: string): number | undefined {
  if (!PORT_PATTERN.test(raw)) return undefined
  const n = Number(raw)
  return n <= 65535 ? n : undefined
}

/** The environment as a layer of its own, so its problems name the variable that has them. */
function envFlags (env: NodeJS.ProcessEnv): { flags: ConfigFlags, problems: ConfigProblem[] } {
  const flags: ConfigFlags = {}
  const problems: ConfigProblem[] = []
  const int = (name: string): number | undefined => {
    const raw = env[name]
    if (raw === undefined || raw === '') return undefined
    const n = parsePort(raw.trim())
    if (n === undefined) problems.push({ key: `env ${name}`, message: `must be a port number (0-65535), got ${JSON.stringify(raw)}` })
    return n
  }
  if (env.CDGOSSIP_DATA_DIR) flags.dataDir = env.CDGOSSIP_DATA_DIR
  if (env.CDGOSSIP_NETWORK) flags.network = env.CDGOSSIP_NETWORK
  if (env.CDGOSSIP_API_HOST) flags.apiHost = env.CDGOSSIP_API_HOST
  const apiPort = int('CDGOSSIP_API_PORT')
  if (apiPort !== undefined) flags.apiPort = apiPort
  const p2pPort = int('CDGOSSIP_P2P_PORT')
  if (p2pPort !== undefined) flags.p2pPort = p2pPort
  if (env.CDGOSSIP_PEERS) flags.peers = env.CDGOSSIP_PEERS.split(',').map(s => s.trim()).filter(Boolean)
  if (env.CDGOSSIP_MDNS) {
    if (!['true', 'false', '1', '0'].includes(env.CDGOSSIP_MDNS)) problems.push({ key: 'env CDGOSSIP_MDNS', message: `must be true or false, got ${JSON.stringify(env.CDGOSSIP_MDNS)}` })
    else flags.mdns = env.CDGOSSIP_MDNS === 'true' || env.CDGOSSIP_MDNS === '1'
  }
  if (env.CDGOSSIP_TARGET_CONNECTIONS) {
    const raw = env.CDGOSSIP_TARGET_CONNECTIONS.trim()
    if (!/^[0-9]{1,6}$/.test(raw)) problems.push({ key: 'env CDGOSSIP_TARGET_CONNECTIONS', message: `must be a whole number, got ${JSON.stringify(env.CDGOSSIP_TARGET_CONNECTIONS)}` })
    else flags.targetConnections = Number(raw)
  }
  if (env.CDGOSSIP_LOG_LEVEL) flags.logLevel = env.CDGOSSIP_LOG_LEVEL
  return { flags, problems }
}

/** How a layer's problems name a setting: the config key for flags, the variable for the environment. */
const ENV_NAMES: Partial<Record<keyof ConfigFlags, string>> = {
  network: 'env CDGOSSIP_NETWORK',
  peers: 'env CDGOSSIP_PEERS',
  apiPort: 'env CDGOSSIP_API_PORT',
  p2pPort: 'env CDGOSSIP_P2P_PORT',
  targetConnections: 'env CDGOSSIP_TARGET_CONNECTIONS',
  logLevel: 'env CDGOSSIP_LOG_LEVEL'
}
const FLAG_KEYS: Partial<Record<keyof ConfigFlags, string>> = {
  network: 'network',
  listen: 'p2p.listen',
  // appended to the file's list, so an index would not match p2p.bootstrap's
  peers: '--peer',
  relay: 'p2p.relay',
  apiPort: 'api.port',
  p2pPort: 'p2p.listen',
  targetConnections: 'p2p.targetConnections',
  logLevel: 'log.level',
  hooksPort: '--hooks-port'
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

/** How problems of flags name their origin (the environment's keys name their variable). */
const FLAGS_SOURCE = 'command line'

function applyFile (config: NodeConfig, file: ConfigFile): void {
  if (file.network !== undefined) config.network = file.network
  Object.assign(config.api, file.api ?? {})
  Object.assign(config.p2p, file.p2p ?? {})
  Object.assign(config.sync, file.sync ?? {})
  if (file.trust?.mode !== undefined) config.trust.mode = file.trust.mode
  if (file.trust?.communities !== undefined) config.trust.communities = file.trust.communities as TrustEntryConfig[]
  if (file.subscriptions !== undefined) config.subscriptions = file.subscriptions
  Object.assign(config.hooks, file.hooks ?? {})
  if (file.sources !== undefined) config.sources = file.sources
  Object.assign(config.log, file.log ?? {})
}

function applyFlags (config: NodeConfig, flags: ConfigFlags, keys: Partial<Record<keyof ConfigFlags, string>>, source?: string): ConfigProblem[] {
  const found: ConfigProblem[] = []
  const problems = { push: (p: ConfigProblem): void => { found.push(source === undefined ? p : { ...p, source }) } }
  const key = (name: keyof ConfigFlags): string => keys[name] ?? name
  // what start would refuse later (libp2p, the relay's topic joins), refused here with the key
  const checkEach = (values: readonly string[] | undefined, name: keyof ConfigFlags, check: (v: string) => string | undefined): void => {
    values?.forEach((v, i) => {
      const message = check(v)
      if (message !== undefined) problems.push({ key: /^(env |--)/.test(key(name)) ? key(name) : childPath(key(name), i), message })
    })
  }
  checkEach(flags.listen, 'listen', listenAddressProblem)
  checkEach(flags.peers, 'peers', bootstrapAddressProblem)
  checkEach(flags.relay, 'relay', relayPatternProblem)
  const isPort = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 65535
  if (flags.network !== undefined) {
    if (!NETWORK_PATTERN.test(flags.network)) problems.push({ key: key('network'), message: `${NETWORK_RULE}, got ${JSON.stringify(flags.network)}` })
    else config.network = flags.network
  }
  if (flags.apiHost !== undefined) config.api.host = flags.apiHost
  if (flags.apiPort !== undefined) {
    if (!isPort(flags.apiPort)) problems.push({ key: key('apiPort'), message: `must be a port number (0-65535), got ${flags.apiPort}` })
    else config.api.port = flags.apiPort
  }
  if (flags.p2pPort !== undefined) {
    if (!isPort(flags.p2pPort)) problems.push({ key: key('p2pPort'), message: `must be a port number (0-65535), got ${flags.p2pPort}` })
    else config.p2p.listen = [`/ip4/0.0.0.0/tcp/${flags.p2pPort}`]
  }
  // explicit addresses are more specific than a port: they win when one layer gives both
  if (flags.listen !== undefined && flags.listen.length > 0) config.p2p.listen = flags.listen
  if (flags.peers !== undefined) config.p2p.bootstrap = [...config.p2p.bootstrap, ...flags.peers]
  if (flags.mdns !== undefined) config.p2p.mdns = flags.mdns
  if (flags.relay !== undefined) config.p2p.relay = flags.relay
  if (flags.targetConnections !== undefined) {
    const n = flags.targetConnections
    if (!Number.isInteger(n) || n < 1 || n > MAX_TARGET_CONNECTIONS) problems.push({ key: key('targetConnections'), message: `must be a whole number from 1 to ${MAX_TARGET_CONNECTIONS}, got ${n}` })
    else config.p2p.targetConnections = n
  }
  if (flags.hooksPort !== undefined) {
    if (!isPort(flags.hooksPort)) problems.push({ key: key('hooksPort'), message: `must be a port number (0-65535), got ${flags.hooksPort}` })
    else config.hooks.listen = `${splitHostPort(config.hooks.listen)?.host ?? '127.0.0.1'}:${flags.hooksPort}`
  }
  if (flags.logLevel !== undefined) {
    if (!LOG_LEVELS.includes(flags.logLevel)) problems.push({ key: key('logLevel'), message: `must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(flags.logLevel)}` })
    else config.log.level = flags.logLevel as NodeConfig['log']['level']
  }
  return found
}

/** `host:port`, `[v6]:port`: where the hooks listener listens; undefined when it is not that. */
export function splitHostPort (value: string): { host: string, port: number } | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s[\]]+)):([0-9]{1,5})$/.exec(value)
  if (m === null) return undefined
  const port = parsePort(m[3] ?? '')
  if (port === undefined) return undefined
  return { host: m[1] ?? m[2] ?? '', port }
}

function hostPortProblem (value: string): string | undefined {
  return splitHostPort(value) === undefined ? `must be host:port (e.g. 127.0.0.1:${DEFAULT_HOOKS_PORT}, 0.0.0.0:${DEFAULT_HOOKS_PORT} or [::1]:${DEFAULT_HOOKS_PORT}), got ${JSON.stringify(value)}` : undefined
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
