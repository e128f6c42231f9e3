import { access } from 'node:fs/promises'
import { stringify as toYaml } from 'yaml'
import { CdgossipError } from '../../errors.js'
import { ConfigError, loadConfigWithSource, maskConfigSecrets, maskWebhookUrl, resolveDataDir, selfTrustProblems } from '../../config.js'
import type { NodeConfig } from '../../config.js'
import { dataDirPaths, initDataDir, readApiUrl } from '../../data-dir.js'
import type { NodeConfiguration } from '../../contracts/node-facade.js'
import { NODE_OPTIONS, UsageError, apiUrlsOption, nodeFlags, parse, port, str } from '../args.js'
import { UnreachableNodeError } from '../client.js'
import { EXIT } from '../command.js'
import type { CommandGroup, Out } from '../command.js'
import { client } from '../connect.js'
import { formatTable } from '../format.js'
import { causes } from '../report.js'

/** The node itself: set up, run, its configuration, and what it is doing. */
export const NODE_COMMANDS: CommandGroup = {
  init: cmdInit,
  start: cmdStart,
  config: cmdConfig,
  peers: cmdPeers,
  status: cmdStatus,
  ui: cmdUi
}

/** `cdgossip ui`: the web page's login link for this node (its URL and token, as other commands find them). */
async function cmdUi (args: string[], out: Out): Promise<number> {
  const { values } = parse(args, {}, false)
  const api = await client(values)
  out(api.uiLoginUrl())
  return EXIT.OK
}

async function cmdInit (args: string[], out: Out): Promise<number> {
  const { values } = parse(args, { network: { type: 'string' }, 'api-port': { type: 'string' }, 'p2p-port': { type: 'string' } }, false)
  const dataDir = resolveDataDir({ dataDir: str(values['data-dir']) })
  const result = await initDataDir(dataDir, { network: str(values.network), apiPort: port(values['api-port'], '--api-port'), p2pPort: port(values['p2p-port'], '--p2p-port') })
  const { loadOrCreateIdentity } = await import('../../signing/index.js')
  const identity = await loadOrCreateIdentity(dataDirPaths(dataDir).identity)
  out(`${result.created.dataDir ? 'created' : 'using'} data dir ${dataDir}`)
  out(`peer ID  ${identity.peerId}${identity.created ? ' (new identity)' : ''}`)
  out(`token    ${dataDirPaths(dataDir).token}${result.created.token ? ' (new)' : ''}`)
  out(`config   ${dataDirPaths(dataDir).config}${result.created.config ? ' (new)' : ''}`)
  return EXIT.OK
}

async function cmdStart (args: string[], out: Out): Promise<number> {
  const { values } = parse(args, NODE_OPTIONS, false)
  const flags = nodeFlags(values)
  const dataDir = resolveDataDir(flags)
  // checked before init writes anything: a bad --network must not end up in a new starter file
  const { config, file } = await loadConfigWithSource(flags)
  await initDataDir(dataDir, { network: flags.network })
  await checkSelfTrust(config, file)
  const { runNode } = await import('../run.js')
  try {
    return await runNode(config, out)
  } catch (e) {
    throw explainStartFailure(e, dataDir)
  }
}

const CONFIG_USAGE = 'usage: cdgossip config show [--data-dir D | --api-url U --token T] [--json] | config check [--data-dir D] [start\'s flags]'

async function cmdConfig (args: string[], out: Out): Promise<number> {
  const action = args[0]
  if (action === 'show') return await configShow(args.slice(1), out)
  if (action === 'check') return await configCheck(args.slice(1), out)
  throw new UsageError(action === undefined || action.startsWith('-') ? CONFIG_USAGE : `unknown config action ${action}: use show or check\n${CONFIG_USAGE}`)
}

/** Where the token and key are: they live in their own files and are never part of a configuration. */
function secretPaths (dataDir: string): Record<string, string> {
  return { apiToken: `${dataDirPaths(dataDir).token} (not shown)`, identityKey: `${dataDirPaths(dataDir).identity} (not shown)` }
}

/**
 * `config show`: what a running node (its data dir's api-url, or --api-url) runs with, from
 * GET /v1/config, with its live trust entries and subscriptions; with no node running, the
 * configuration file merged with defaults and the environment, labelled as such. The label is a
 * YAML comment, so the output stays YAML.
 */
async function configShow (args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } }, false)
  if (positionals.length > 0) throw new UsageError(CONFIG_USAGE)
  const json = values.json === true
  const dataDir = resolveDataDir({ dataDir: str(values['data-dir']) })
  const explicit = apiUrlsOption(values) !== undefined
  const knownUrl = explicit ? undefined : await readApiUrl(dataDir)
  let notRunning = knownUrl === undefined ? 'node not running' : `node not running (nothing answers at ${knownUrl})`
  if (explicit || knownUrl !== undefined) {
    try {
      const api = await client(values)
      const { body } = await api.request<NodeConfiguration>('GET', '/v1/config')
      const live = { trust: body.trust, subscriptions: body.subscriptions.map(maskLiveSubscription) }
      const nodeDataDir = typeof body.config.dataDir === 'string' ? body.config.dataDir : dataDir
      if (json) {
        out(JSON.stringify({ source: 'node', apiUrl: api.baseUrl, config: body.config, live }))
      } else {
        out(`# node running at ${api.baseUrl}: the configuration it runs with (defaults < config file < environment < flags at its start),`)
        out('# then under `live` its trust entries and subscriptions now (config file and API)')
        out(toYaml({ ...body.config, live, secrets: secretPaths(nodeDataDir) }).trimEnd())
      }
      return EXIT.OK
    } catch (e) {
      // a stale api-url left by a node that died; an explicit --api-url must answer
      if (explicit || !(e instanceof UnreachableNodeError)) throw e
      notRunning = `node not running (nothing answers at ${knownUrl ?? ''})`
    }
  }
  const { config, file } = await loadConfigWithSource({ dataDir })
  await checkSelfTrust(config, file)
  const what = file === undefined ? `no configuration file in ${dataDir}: showing the defaults` : `showing the configuration file ${file} merged with defaults`
  if (json) {
    out(JSON.stringify({ source: 'file', ...(file === undefined ? {} : { file }), config: maskConfigSecrets(config) }))
  } else {
    out(`# ${notRunning}: ${what} and the environment (flags given to start are not included)`)
    out(toYaml({ ...maskConfigSecrets(config), secrets: secretPaths(config.dataDir) }).trimEnd())
  }
  return EXIT.OK
}

/** Live subscriptions as config show prints them: the API hides header values; query values go too. */
function maskLiveSubscription<T extends { sink: { type: string, url?: string } }> (sub: T): T {
  return typeof sub.sink.url === 'string' ? { ...sub, sink: { ...sub.sink, url: maskWebhookUrl(sub.sink.url) } } : sub
}

/**
 * What the configuration alone cannot tell: whether a trust entry names this node itself (a config
 * file shared by every node of a federation). Only an identity that exists can be named; a first
 * start generates a new one.
 */
async function checkSelfTrust (config: Readonly<NodeConfig>, file: string | undefined): Promise<void> {
  const keyPath = dataDirPaths(config.dataDir).identity
  if (config.trust.communities.length === 0 || !await exists(keyPath)) return
  const { loadOrCreateIdentity } = await import('../../signing/index.js')
  const problems = selfTrustProblems(config.trust.communities, (await loadOrCreateIdentity(keyPath)).peerId, file)
  if (problems.length > 0) throw new ConfigError(problems)
}

async function exists (path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}

/**
 * `config check`: load the configuration exactly as `start` with the same flags would (file,
 * environment, flags; every entry through the API's validators); exit 0 when it is valid, 3 with
 * every problem when not.
 */
async function configCheck (args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse(args, NODE_OPTIONS)
  if (positionals.length > 0) throw new UsageError(CONFIG_USAGE)
  const flags = nodeFlags(values)
  const { config, file } = await loadConfigWithSource(flags)
  await checkSelfTrust(config, file)
  const counts = `${config.trust.communities.length} trust ${config.trust.communities.length === 1 ? 'entry' : 'entries'}, ${config.subscriptions.length} subscription${config.subscriptions.length === 1 ? '' : 's'}, relay ${config.p2p.relay.length === 0 ? 'none' : config.p2p.relay.join(' ')}`
  out(file === undefined ? `configuration valid: no configuration file in ${config.dataDir}, defaults apply (${counts})` : `configuration valid: ${file} (${counts})`)
  return EXIT.OK
}

/**
 * Failures of `start` that are the operator's to fix, said plainly: a port in use, another node
 * on the same data dir (LevelDB's lock). Everything else is returned unchanged.
 */
function explainStartFailure (e: unknown, dataDir: string): unknown {
  const chain = [e, ...causes(e)] as Array<NodeJS.ErrnoException & { address?: string, port?: number }>
  const locked = chain.find(c => c?.code === 'LEVEL_LOCKED')
  if (locked !== undefined) return new CdgossipError('CDG_CONFIG', `the data dir ${dataDir} is in use by another cdgossip node (its store is locked); stop that node or use another --data-dir`, { cause: e })
  // libp2p gathers its listen failures in one error, one line per address
  const p2p = chain.find(c => (c as Error | undefined)?.name === 'UnsupportedListenAddressesError')
  if (p2p !== undefined) {
    const failures = p2p.message.split('\n').filter(l => /^\s*\//.test(l)).map(l => l.trim())
    return new CdgossipError('CDG_CONFIG', `cannot listen on the p2p address${failures.length === 1 ? '' : 'es'}: ${failures.join('; ')} (check p2p.listen / --listen / --p2p-port)`)
  }
  const listen = chain.find(c => c?.code === 'EADDRINUSE' || c?.code === 'EADDRNOTAVAIL' || (c?.code === 'EACCES' && c?.syscall === 'listen'))
  if (listen !== undefined) {
    const where = listen.address !== undefined ? ` ${listen.address}:${String(listen.port ?? '')}` : ''
    const why = listen.code === 'EADDRINUSE' ? 'the address is in use (another node running? choose another --api-port, --p2p-port or --hooks-port)' : listen.code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)' : 'no such local address'
    return new CdgossipError('CDG_CONFIG', `cannot listen on${where}: ${why}`, { cause: e })
  }
  return e
}

async function cmdPeers (args: string[], out: Out): Promise<number> {
  const { values } = parse(args, { json: { type: 'boolean' } }, false)
  const api = await client(values)
  const { body } = await api.request<Array<{ peerId: string, name?: string, addresses: string[], topics: string[] }>>('GET', '/v1/peers')
  if (values.json === true) { out(JSON.stringify(body)); return EXIT.OK }
  out(body.length === 0 ? 'no connected peers' : formatTable(['NAME', 'PEER ID', 'TOPICS', 'ADDRESS'], body.map(p => [p.name ?? '(untrusted)', p.peerId, String(p.topics.length), p.addresses[0] ?? ''])))
  return EXIT.OK
}

async function cmdStatus (args: string[], out: Out): Promise<number> {
  const { values } = parse(args, { json: { type: 'boolean' } }, false)
  const api = await client(values)
  const { body } = await api.request<Record<string, unknown> & { peerId: string, network: string, version: string, peers: number, topics: string[], store: { events: number, approximateBytes?: number }, trustMode: string, listenAddresses: string[], counters: Record<string, number>, sync?: { gaps?: number } }>('GET', '/v1/node')
  if (values.json === true) { out(JSON.stringify(body)); return EXIT.OK }
  const rows: string[][] = [
    ['peer ID', body.peerId],
    ['network', body.network],
    ['version', body.version],
    ['listening', body.listenAddresses.join(' ')],
    ['peers', String(body.peers)],
    ['topics', body.topics.length === 0 ? '(none)' : body.topics.join(' ')],
    ['trust mode', body.trustMode],
    ['events stored', String(body.store.events)],
    ['sync gaps', String(body.sync?.gaps ?? 0)]
  ]
  const community = body.community as StatusCommunity | undefined
  if (community !== undefined) {
    rows.push(['community', `${community.name} (${community.id})`], ['community nodes', community.nodes.join(' ')])
    if (community.lease !== undefined) rows.push(...leaseRows(community.lease, community.nodes.length - 1))
  }
  const refusals = body.refusals as StatusRefusals | undefined
  rows.push(['refused by policy', refusals === undefined || refusals.sequences === 0
    ? '0'
    : `${refusals.sequences} (${Object.entries(refusals.reasons).map(([r, n]) => `${r} ${n}`).join(', ')}; known, not gaps)`])
  for (const [k, v] of Object.entries(body.counters)) rows.push([k, String(v)])
  out(formatTable(['', ''], rows, { header: false }))
  if (refusals !== undefined && refusals.origins.length > 0) {
    out('')
    out(`Refused by this node's trust policy (${refusals.originCount} origin${refusals.originCount === 1 ? '' : 's'}; widen the trust entry to fetch them):`)
    out(formatTable(['ORIGIN', 'PEER ID', 'REASONS', 'CLASSES', 'LAST SOURCE'], refusals.origins.map(o => [
      o.name ?? '(no entry)', o.origin, Object.entries(o.reasons).map(([r, n]) => `${r} ${n}`).join(', '), o.classes.join(' '), o.lastSource ?? ''
    ])))
  }
  const peerStats = (body.peerStats ?? []) as StatusPeer[]
  if (peerStats.length > 0) {
    out('')
    out('Records per peer (gossip and sync, since start):')
    out(formatTable(['PEER', 'PEER ID', 'RECEIVED', 'STORED', 'RELAYED', 'REJECTED', 'REFUSED', 'SCORE', 'LAST REJECT'], peerStats.map(p => [
      p.name ?? '(untrusted)', p.peerId, String(p.received), String(p.stored), String(p.relayed), String(p.rejected), String(p.refused),
      p.gossipScore === undefined ? '-' : p.gossipScore.toFixed(1), p.lastReject === undefined ? '' : `${p.lastReject.code} at ${p.lastReject.at}`
    ])))
  }
  return EXIT.OK
}

interface StatusCommunity {
  id: string
  name: string
  nodes: string[]
  lease?: StatusLease
}

interface StatusLease { holding: boolean, holder?: string, live: string[] }

/** Who runs the community's webhooks and triggers, as this node sees it, and how many siblings it hears. */
function leaseRows (lease: StatusLease, siblings: number): string[][] {
  const state = lease.holding ? 'held here: runs webhooks and triggers' : lease.holder === undefined ? 'no holder heard yet' : 'standby: another node holds it'
  return [
    ['sink lease', state],
    ...(lease.holding || lease.holder === undefined ? [] : [['lease holder', lease.holder]]),
    ['live siblings', `${lease.live.length} of ${siblings}`]
  ]
}

interface StatusRefusals {
  sequences: number
  reasons: Record<string, number>
  originCount: number
  origins: Array<{ origin: string, name?: string, reasons: Record<string, number>, classes: string[], lastSource?: string }>
}

interface StatusPeer {
  peerId: string
  name?: string
  received: number
  stored: number
  relayed: number
  rejected: number
  refused: number
  gossipScore?: number
  lastReject?: { code: string, at: string }
}
