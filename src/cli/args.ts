import { parseArgs, type ParseArgsConfig } from 'node:util'
import { parsePort, type ConfigFlags } from '../config.js'
import { splitUrlList } from './client.js'

/** A mistake in the command line itself: reported with the usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

export type Options = NonNullable<ParseArgsConfig['options']>

const COMMON: Options = {
  'data-dir': { type: 'string' },
  'api-url': { type: 'string', multiple: true },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' }
}

export const FILTERS: Options = {
  type: { type: 'string' },
  source: { type: 'string' },
  subject: { type: 'string' },
  'chain-id': { type: 'string' },
  origin: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  trusted: { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  all: { type: 'boolean' },
  json: { type: 'boolean' }
}

/**
 * `--token -Xy…` as `--token=-Xy…`. parseArgs refuses a value that starts with a dash as
 * "ambiguous", but tokens are base64url (1 in 64 begins with `-`) and `--since`/`--header` values
 * may too. A following argument that is itself one of the command's options (`--token --json`)
 * stays apart, so a forgotten value is still a usage error.
 */
function joinDashValues (args: string[], options: Options): string[] {
  const known = new Set<string>()
  for (const [name, option] of Object.entries(options)) {
    known.add(`--${name}`)
    if (option.short !== undefined) known.add(`-${option.short}`)
  }
  const out: string[] = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string
    if (arg === '--') { out.push(...args.slice(i)); break }
    const next = args[i + 1]
    const name = arg.startsWith('--') ? arg.slice(2) : undefined
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && next.startsWith('-') && next !== '-' && !known.has(next.split('=', 1)[0] as string)) {
      out.push(`${arg}=${next}`)
      i++
    } else {
      out.push(arg)
    }
  }
  return out
}

export function parse (args: string[], options: Options, allowPositionals = true): { values: Record<string, string | boolean | string[] | undefined>, positionals: string[] } {
  const all = { ...COMMON, ...options }
  try {
    const { values, positionals } = parseArgs({ args: joinDashValues(args, all), options: all, allowPositionals, strict: true })
    return { values: values as Record<string, string | boolean | string[] | undefined>, positionals }
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

export const str = (v: unknown): string | undefined => typeof v === 'string' ? v : undefined
export const list = (v: unknown): string[] | undefined => Array.isArray(v) ? v.map(String) : undefined

export function port (v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined
  const n = parsePort(String(v))
  if (n === undefined) throw new UsageError(`${flag} must be a port number (0-65535), got ${String(v)}`)
  return n
}

export function nodeFlags (values: Record<string, unknown>): ConfigFlags {
  const flags: ConfigFlags = {}
  const dataDir = str(values['data-dir'])
  if (dataDir !== undefined) flags.dataDir = dataDir
  const network = str(values.network)
  if (network !== undefined) flags.network = network
  const apiPort = port(values['api-port'], '--api-port')
  if (apiPort !== undefined) flags.apiPort = apiPort
  const p2pPort = port(values['p2p-port'], '--p2p-port')
  if (p2pPort !== undefined) flags.p2pPort = p2pPort
  const apiHost = str(values['api-host'])
  if (apiHost !== undefined) flags.apiHost = apiHost
  const listen = list(values.listen)
  if (listen !== undefined) flags.listen = listen
  const peers = list(values.peer)
  if (peers !== undefined) flags.peers = peers
  if (values.mdns === true) flags.mdns = true
  const relay = list(values.relay)
  if (relay !== undefined) flags.relay = relay
  const target = str(values['target-connections'])
  if (target !== undefined) {
    if (!/^[0-9]{1,6}$/.test(target)) throw new UsageError(`--target-connections must be a whole number, got ${target}`)
    flags.targetConnections = Number(target)
  }
  const hooksPort = port(values['hooks-port'], '--hooks-port')
  if (hooksPort !== undefined) flags.hooksPort = hooksPort
  const logLevel = str(values['log-level'])
  if (logLevel !== undefined) flags.logLevel = logLevel
  return flags
}

/**
 * The `--api-url` flags (repeatable: nodes of one community, tried in order), else the
 * comma-separated CDGOSSIP_API_URL, checked: `127.0.0.1:7070` without a scheme would otherwise
 * reach fetch as a URL whose scheme is `127.0.0.1` and fail as "unreachable".
 */
export function apiUrlsOption (values: Record<string, unknown>): string[] | undefined {
  const flags = list(values['api-url'])
  const [urls, where] = flags !== undefined ? [flags, '--api-url'] : [splitUrlList(process.env.CDGOSSIP_API_URL), 'CDGOSSIP_API_URL']
  if (urls === undefined) return undefined
  for (const raw of urls) {
    let url: URL | undefined
    try {
      url = new URL(raw)
    } catch {
      url = undefined
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.host === '') {
      const guess = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? '' : ` (did you mean http://${raw}?)`
      throw new UsageError(`${where} must be the node's REST URL with its scheme, like http://127.0.0.1:7070; got ${JSON.stringify(raw)}${guess}`)
    }
  }
  return urls
}

export function queryString (values: Record<string, unknown>): URLSearchParams {
  const q = new URLSearchParams()
  const map: Array<[string, string]> = [['type', 'type'], ['source', 'source'], ['subject', 'subject'], ['chain-id', 'chainId'], ['origin', 'origin'], ['since', 'since'], ['until', 'until'], ['trusted', 'trusted'], ['limit', 'limit'], ['cursor', 'cursor']]
  for (const [flag, param] of map) {
    const v = str(values[flag])
    if (v !== undefined) q.set(param, v)
  }
  return q
}

/** An argument as a POSIX shell reads it back (for commands the CLI suggests). */
export function shellWord (word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`
}

/** `args` with `--flag V` / `--flag=V` left out. */
export function withoutFlag (args: string[], flag: string): string[] {
  const out: string[] = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string
    if (arg === flag) i++
    else if (!arg.startsWith(`${flag}=`)) out.push(arg)
  }
  return out
}

/** The settings `start` takes as flags; `config check` takes the same, to check what a start would run with. */
export const NODE_OPTIONS: Options = {
  network: { type: 'string' },
  'api-port': { type: 'string' },
  'api-host': { type: 'string' },
  'p2p-port': { type: 'string' },
  listen: { type: 'string', multiple: true },
  peer: { type: 'string', multiple: true },
  mdns: { type: 'boolean' },
  relay: { type: 'string', multiple: true },
  'target-connections': { type: 'string' },
  'hooks-port': { type: 'string' },
  'log-level': { type: 'string' }
}
