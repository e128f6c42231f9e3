/**
 * The command line and the CDGOSSIP_* environment as configuration layers: which settings they
 * carry, how they are parsed, and how each is applied over the file's. The environment is handed
 * in (config.ts reads process.env), so this module reads nothing itself.
 */
import { bootstrapAddressProblem, childPath, listenAddressProblem, relayPatternProblem, type ConfigProblem } from './config-problems.js'
import { LOG_LEVELS, MAX_TARGET_CONNECTIONS, NETWORK_PATTERN, NETWORK_RULE, splitHostPort, type NodeConfig } from './config-schema.js'

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
export function envFlags (env: NodeJS.ProcessEnv): { flags: ConfigFlags, problems: ConfigProblem[] } {
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
export const ENV_NAMES: Partial<Record<keyof ConfigFlags, string>> = {
  network: 'env CDGOSSIP_NETWORK',
  peers: 'env CDGOSSIP_PEERS',
  apiPort: 'env CDGOSSIP_API_PORT',
  p2pPort: 'env CDGOSSIP_P2P_PORT',
  targetConnections: 'env CDGOSSIP_TARGET_CONNECTIONS',
  logLevel: 'env CDGOSSIP_LOG_LEVEL'
}
export const FLAG_KEYS: Partial<Record<keyof ConfigFlags, string>> = {
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

/** How problems of flags name their origin (the environment's keys name their variable). */
export const FLAGS_SOURCE = 'command line'

/**
 * Applies one layer of flags (the environment's, or the command line's) over `config`; returns
 * what is wrong with it, each problem named by `keys` (and `source`).
 */
export function applyFlags (config: NodeConfig, flags: ConfigFlags, keys: Partial<Record<keyof ConfigFlags, string>>, source?: string): ConfigProblem[] {
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
    if (!Number.isInteger(flags.hooksPort) || flags.hooksPort < 0 || flags.hooksPort > 65535) problems.push({ key: key('hooksPort'), message: `must be a port number (0-65535), got ${flags.hooksPort}` })
    else config.hooks.listen = `${splitHostPort(config.hooks.listen)?.host ?? '127.0.0.1'}:${flags.hooksPort}`
  }
  if (flags.logLevel !== undefined) {
    if (!LOG_LEVELS.includes(flags.logLevel)) problems.push({ key: key('logLevel'), message: `must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(flags.logLevel)}` })
    else config.log.level = flags.logLevel as NodeConfig['log']['level']
  }
  return found
}
