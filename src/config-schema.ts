/**
 * What a configuration is: its shape (NodeConfig), its defaults, and the one JSON Schema of the
 * config file. Data only; config.ts loads, merges and validates (and is what other modules import).
 */
import { homedir } from 'node:os'
import { join } from 'node:path'

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
/** Heartbeats among a community's nodes; the sink lease moves after three are missed. */
export const DEFAULT_COMMUNITY_HEARTBEAT_MS = 2000

/** One trust entry of the config file: exactly one of `peerId` (one node) and `community` (a community root key). */
export interface TrustEntryConfig {
  peerId?: string
  community?: string
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
  /** `?resolve=true` on the trace routes: what one request may ask peers for (README, Resolving links) */
  trace: {
    resolveMaxReferences: number
    resolveMaxRounds: number
    resolveTimeoutMs: number
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
  /** the community this node is one node of (README, Communities with several nodes) */
  community: {
    /** the signed manifest chain `cdgossip community export` writes; relative to the data dir */
    manifest?: string
    /** how often the community's nodes tell each other they are alive (the sink lease) */
    heartbeatMs: number
  }
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
    // trace/resolve.ts' RESOLVE_MAX_REFS, RESOLVE_MAX_ROUNDS, RESOLVE_TIMEOUT_MS (not imported: config loads alone)
    trace: { resolveMaxReferences: 64, resolveMaxRounds: 3, resolveTimeoutMs: 3000 },
    trust: { mode: 'allowlist', communities: [] },
    subscriptions: [],
    hooks: { listen: `127.0.0.1:${DEFAULT_HOOKS_PORT}`, bodyLimit: DEFAULT_HOOKS_BODY_LIMIT },
    sources: [],
    community: { heartbeatMs: DEFAULT_COMMUNITY_HEARTBEAT_MS },
    log: { level: 'info' }
  }
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
/** Lowercase, digits and dashes: the name becomes part of every gossip topic. */
export const NETWORK_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/
/** NETWORK_PATTERN in words: users read messages, not regular expressions. */
export const NETWORK_RULE = 'must be 1-63 lowercase letters, digits and dashes, starting with a letter or digit'

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
    trace: {
      type: 'object',
      additionalProperties: false,
      properties: {
        // 64: the fetch protocol's MAX_FETCH_REFS, what one request to a peer may carry
        resolveMaxReferences: { type: 'integer', minimum: 1, maximum: 64 },
        resolveMaxRounds: { type: 'integer', minimum: 1, maximum: 10 },
        resolveTimeoutMs: { type: 'integer', minimum: 100, maximum: 30000 }
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
    community: {
      type: 'object',
      additionalProperties: false,
      properties: {
        manifest: { type: 'string', minLength: 1 },
        heartbeatMs: { type: 'integer', minimum: 100, maximum: 60000 }
      }
    },
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

/** `host:port`, `[v6]:port`: where the hooks listener listens; undefined when it is not that. */
export function splitHostPort (value: string): { host: string, port: number } | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s[\]]+)):([0-9]{1,5})$/.exec(value)
  if (m === null) return undefined
  const port = Number(m[3])
  if (port > 65535) return undefined
  return { host: m[1] ?? m[2] ?? '', port }
}

export function hostPortProblem (value: string): string | undefined {
  return splitHostPort(value) === undefined ? `must be host:port (e.g. 127.0.0.1:${DEFAULT_HOOKS_PORT}, 0.0.0.0:${DEFAULT_HOOKS_PORT} or [::1]:${DEFAULT_HOOKS_PORT}), got ${JSON.stringify(value)}` : undefined
}
