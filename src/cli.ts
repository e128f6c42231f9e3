import { parseArgs, type ParseArgsConfig } from 'node:util'
import { readFile } from 'node:fs/promises'
import { stringify as toYaml } from 'yaml'
import { CdgossipError, isCdgossipError } from './errors.js'
import { loadConfig, parsePort, resolveDataDir, type ConfigFlags, type NodeConfig } from './config.js'
import { dataDirPaths, initDataDir, readApiUrl } from './data-dir.js'
import { ApiClient, ApiError, importRecords, parseJsonDocuments, readJsonInput, resolveClient } from './client.js'
import { formatTable } from './cli-format.js'
import { Progress, type ProgressStream } from './cli-progress.js'
import type { EventView } from './store/index.js'

/**
 * The `cdgossip` command. Output for humans goes to stdout; errors are one line on stderr.
 * Exit codes: 0 success; 1 the operation failed (refused events, invalid signatures, API errors);
 * 2 usage error; 3 configuration error or node unreachable.
 */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, CONFIG: 3 } as const

const USAGE = `usage: cdgossip <command> [options]

Node:
  init      [--data-dir D] [--network N] [--api-port P] [--p2p-port P]   create identity, token and config
  start     [--data-dir D] [--network N] [--api-port P] [--p2p-port P] [--listen MA]... [--peer MA]...
            [--mdns] [--relay PATTERN]... [--target-connections N] [--log-level L]   run the node (creates the data dir if needed)
  config show [--data-dir D]                                             print the effective configuration

Events (talk to a running node: --api-url/CDGOSSIP_API_URL, --token/CDGOSSIP_TOKEN, or the data dir):
  publish   [FILE|-]                          publish one event, a JSON array, or JSON lines
  events    [--type T] [--source S] [--subject S] [--chain-id C] [--origin O]
            [--since T] [--until T] [--limit N] [--cursor C] [--all] [--json]
  tail      [same filters] [--json]           print events live, resuming after reconnects
  export    [same filters] > file.jsonl       write signed events as JSON lines
  import    FILE                              verify and store signed events from a JSON-lines export
  verify    FILE                              verify signed CloudEvents offline (JSON or JSON lines)

Federation:
  trust     list | add --peer-id ID --name N --source PREFIX... [--class PATTERN]... | remove ID|NAME
  subscribe --class PATTERN... [--id ID] [--origin O]... [--source-prefix P] [--subject S] [--outcome O]
            [--from now|beginning|cursor:C|time:T] [--webhook URL [--structured] [--header K=V]...]
            [--include-untrusted]
  subscriptions list | remove ID | dead-letters ID | redrive ID
  peers                                       connected peers, with trust names
  status                                      node, topics, sync and store at a glance
`

class UsageError extends Error {
  override name = 'UsageError'
}

type Options = NonNullable<ParseArgsConfig['options']>

const COMMON: Options = {
  'data-dir': { type: 'string' },
  'api-url': { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' }
}

const FILTERS: Options = {
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

function parse (args: string[], options: Options, allowPositionals = true): { values: Record<string, string | boolean | string[] | undefined>, positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options: { ...COMMON, ...options }, allowPositionals, strict: true })
    return { values: values as Record<string, string | boolean | string[] | undefined>, positionals }
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

const str = (v: unknown): string | undefined => typeof v === 'string' ? v : undefined
const list = (v: unknown): string[] | undefined => Array.isArray(v) ? v.map(String) : undefined

function port (v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined
  const n = parsePort(String(v))
  if (n === undefined) throw new UsageError(`${flag} must be a port number (0-65535), got ${String(v)}`)
  return n
}

function nodeFlags (values: Record<string, unknown>): ConfigFlags {
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
  const logLevel = str(values['log-level'])
  if (logLevel !== undefined) flags.logLevel = logLevel
  return flags
}

async function client (values: Record<string, unknown>): Promise<ApiClient> {
  const dataDir = resolveDataDir({ dataDir: str(values['data-dir']) })
  return await resolveClient({ dataDir, apiUrl: str(values['api-url']), token: str(values.token) })
}

/**
 * For long-lived commands (tail): a client per connection. A node found through the data dir
 * may come back on another port after a restart, so its api-url is read again each time; while
 * the file is absent (node down) the last known URL is tried.
 */
async function followingClient (values: Record<string, unknown>): Promise<() => Promise<ApiClient>> {
  const first = await client(values)
  if (str(values['api-url']) !== undefined || (process.env.CDGOSSIP_API_URL ?? '') !== '') return async () => first
  const dataDir = resolveDataDir({ dataDir: str(values['data-dir']) })
  let current = first
  return async () => {
    const url = await readApiUrl(dataDir)
    if (url !== undefined && url !== current.baseUrl) current = await resolveClient({ dataDir, apiUrl: url, token: str(values.token) })
    return current
  }
}

function queryString (values: Record<string, unknown>): URLSearchParams {
  const q = new URLSearchParams()
  const map: Array<[string, string]> = [['type', 'type'], ['source', 'source'], ['subject', 'subject'], ['chain-id', 'chainId'], ['origin', 'origin'], ['since', 'since'], ['until', 'until'], ['trusted', 'trusted'], ['limit', 'limit'], ['cursor', 'cursor']]
  for (const [flag, param] of map) {
    const v = str(values[flag])
    if (v !== undefined) q.set(param, v)
  }
  return q
}

export function eventLine (e: EventView): string[] {
  const outcome = e.cdevent.subject.content.outcome
  return [e.cdevent.context.timestamp, e.class, e.cdevent.subject.id, typeof outcome === 'string' ? outcome : '', e.origin.slice(-8), String(e.sequence), e.cdevent.context.source]
}
const EVENT_HEADERS = ['TIME', 'CLASS', 'SUBJECT', 'OUTCOME', 'ORIGIN', 'SEQ', 'SOURCE']

async function pageEvents (api: ApiClient, q: URLSearchParams, all: boolean, each: (events: EventView[]) => void): Promise<void> {
  for (;;) {
    const { body } = await api.request<{ events: EventView[], next?: string }>('GET', `/v1/events?${q.toString()}`)
    each(body.events)
    if (!all || body.next === undefined) return
    q.set('cursor', body.next)
  }
}

type Out = (line: string) => void

/** What a command may use besides stdout lines: where progress goes (drawn only on a TTY). */
interface CommandContext {
  progress: ProgressStream
}

async function cmdInit (args: string[], out: Out): Promise<number> {
  const { values } = parse(args, { network: { type: 'string' }, 'api-port': { type: 'string' }, 'p2p-port': { type: 'string' } }, false)
  const dataDir = resolveDataDir({ dataDir: str(values['data-dir']) })
  const result = await initDataDir(dataDir, { network: str(values.network), apiPort: port(values['api-port'], '--api-port'), p2pPort: port(values['p2p-port'], '--p2p-port') })
  const { loadOrCreateIdentity } = await import('./signing/index.js')
  const identity = await loadOrCreateIdentity(dataDirPaths(dataDir).identity)
  out(`${result.created.dataDir ? 'created' : 'using'} data dir ${dataDir}`)
  out(`peer ID  ${identity.peerId}${identity.created ? ' (new identity)' : ''}`)
  out(`token    ${dataDirPaths(dataDir).token}${result.created.token ? ' (new)' : ''}`)
  out(`config   ${dataDirPaths(dataDir).config}${result.created.config ? ' (new)' : ''}`)
  return EXIT.OK
}

async function cmdStart (args: string[], out: Out): Promise<number> {
  const { values } = parse(args, {
    network: { type: 'string' },
    'api-port': { type: 'string' },
    'api-host': { type: 'string' },
    'p2p-port': { type: 'string' },
    listen: { type: 'string', multiple: true },
    peer: { type: 'string', multiple: true },
    mdns: { type: 'boolean' },
    relay: { type: 'string', multiple: true },
    'target-connections': { type: 'string' },
    'log-level': { type: 'string' }
  }, false)
  const flags = nodeFlags(values)
  const dataDir = resolveDataDir(flags)
  await initDataDir(dataDir, { network: flags.network })
  const config = await loadConfig(flags)
  const { runNode } = await import('./run.js')
  try {
    return await runNode(config, out)
  } catch (e) {
    throw explainStartFailure(e, dataDir)
  }
}

const HIDDEN = '(hidden)'

/** A URL with its password and query values hidden (webhook receivers often take a token there). */
function maskUrl (raw: string): string {
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
 * The configuration as `config show` prints it: webhook headers (auth tokens for the receiver)
 * and URL credentials are hidden, so the output can be pasted into an issue.
 */
export function maskSecrets (config: Readonly<NodeConfig>): Record<string, unknown> {
  const subscriptions = config.subscriptions.map(sub => {
    const sink = sub.sink as { url?: unknown, headers?: unknown } | undefined
    if (typeof sink !== 'object' || sink === null) return sub
    const masked: Record<string, unknown> = { ...sink }
    if (typeof sink.url === 'string') masked.url = maskUrl(sink.url)
    if (typeof sink.headers === 'object' && sink.headers !== null) masked.headers = Object.fromEntries(Object.keys(sink.headers).map(k => [k, HIDDEN]))
    return { ...sub, sink: masked }
  })
  return { ...config, subscriptions }
}

async function cmdConfig (args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse(args, {})
  if (positionals[0] !== 'show' || positionals.length > 1) throw new UsageError('usage: cdgossip config show [--data-dir D]')
  const config = await loadConfig({ dataDir: str(values['data-dir']) })
  // the token and key live in their own files and are never part of the configuration
  out(toYaml({ ...maskSecrets(config), secrets: { apiToken: `${dataDirPaths(config.dataDir).token} (not shown)`, identityKey: `${dataDirPaths(config.dataDir).identity} (not shown)` } }).trimEnd())
  return EXIT.OK
}

/**
 * The API's batch cap (MAX_BATCH_ITEMS in api/). A batch is all-or-nothing, so a bigger input is
 * refused here rather than split into batches that could half succeed.
 */
const MAX_PUBLISH_EVENTS = 1000

async function cmdPublish (args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } })
  if (positionals.length > 1) throw new UsageError('publish takes at most one FILE (or - for stdin)')
  const events = await readJsonInput(positionals[0])
  if (events.length === 0) throw new UsageError('no events in the input')
  if (events.length > MAX_PUBLISH_EVENTS) throw new UsageError(`publish sends one all-or-nothing batch of at most ${MAX_PUBLISH_EVENTS} events; the input has ${events.length}: split it (e.g. split -l ${MAX_PUBLISH_EVENTS} events.jsonl)`)
  const api = await client(values)
  const { body } = await api.request<unknown>('POST', '/v1/events', { json: events.length === 1 ? events[0] : events })
  const receipts = (Array.isArray(body) ? body : [body]) as Array<{ digest: string, class: string, sequence: number, status: string, id: string }>
  if (values.json === true) {
    out(JSON.stringify(body))
  } else {
    for (const r of receipts) out(`${r.status === 'existing' ? 'exists ' : 'published'} ${r.class} #${r.sequence} id=${r.id} digest=${r.digest}`)
  }
  return EXIT.OK
}

async function cmdEvents (args: string[], out: Out): Promise<number> {
  const { values } = parse(args, FILTERS, false)
  const api = await client(values)
  const rows: string[][] = []
  await pageEvents(api, queryString(values), values.all === true, events => {
    for (const e of events) {
      if (values.json === true) out(JSON.stringify(e))
      else rows.push(eventLine(e))
    }
  })
  if (values.json !== true) out(rows.length === 0 ? 'no events' : formatTable(EVENT_HEADERS, rows))
  return EXIT.OK
}

/** Export page size: the API's largest, so a big export takes few round trips. */
const EXPORT_PAGE_LIMIT = '1000'
/** Query parameters that narrow an export: with none of them, the store's count is its total. */
const NARROWING = ['type', 'source', 'subject', 'chainId', 'origin', 'since', 'until', 'trusted', 'cursor']

async function cmdExport (args: string[], out: Out, ctx: CommandContext): Promise<number> {
  const { values } = parse(args, FILTERS, false)
  const api = await client(values)
  const q = queryString(values)
  if (!q.has('limit')) q.set('limit', EXPORT_PAGE_LIMIT)
  const progress = new Progress({ stream: ctx.progress }, { label: 'exported' })
  if (progress.enabled && !NARROWING.some(k => q.has(k))) {
    const { body } = await api.request<{ store: { events: number } }>('GET', '/v1/node')
    progress.setTotal(body.store.events)
  }
  try {
    // one signed CloudEvent per line, exactly as signed (the record's JSON members are all strings,
    // so serialising the parsed object reproduces the stored bytes)
    await pageEvents(api, q, true, events => {
      for (const e of events) out(JSON.stringify(e.cloudEvent))
      progress.add(events.length)
    })
  } finally {
    progress.end()
  }
  return EXIT.OK
}

async function cmdImport (args: string[], out: Out, ctx: CommandContext): Promise<number> {
  const { values, positionals } = parse(args, {})
  if (positionals.length !== 1) throw new UsageError('usage: cdgossip import FILE')
  const records = parseJsonDocuments(await readFile(positionals[0] as string, 'utf8'))
  const api = await client(values)
  const progress = new Progress({ stream: ctx.progress }, { label: 'imported', total: records.length })
  let last = 0
  let result
  try {
    result = await importRecords(api, records, { onProgress: done => { progress.add(done - last); last = done } })
  } finally {
    progress.end()
  }
  out(`stored ${result.stored}, already held ${result.duplicates}, refused ${result.refused.length}`)
  for (const r of result.refused) out(`  record ${r.index + 1}: ${r.code}: ${r.message}`)
  return result.refused.length > 0 ? EXIT.FAILED : EXIT.OK
}

async function cmdVerify (args: string[], out: Out): Promise<number> {
  const { positionals } = parse(args, {})
  if (positionals.length !== 1) throw new UsageError('usage: cdgossip verify FILE')
  const { parseCloudEventJson, verifyCloudEvent } = await import('./signing/index.js')
  const docs = parseJsonDocuments(await readFile(positionals[0] as string, 'utf8'))
  let bad = 0
  docs.forEach((doc, i) => {
    const label = `event ${i + 1}`
    try {
      const parsed = parseCloudEventJson(doc)
      const result = verifyCloudEvent(parsed)
      out(`${label}: valid  signer=${result.signer} id=${parsed.attributes.id ?? ''} source=${parsed.attributes.source ?? ''}`)
    } catch (err) {
      bad++
      out(`${label}: INVALID  ${isCdgossipError(err) ? `${err.code}: ` : ''}${(err as Error).message}`)
    }
  })
  if (docs.length === 0) throw new UsageError('no events in the file')
  return bad > 0 ? EXIT.FAILED : EXIT.OK
}

async function cmdTrust (args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse(args, { 'peer-id': { type: 'string' }, name: { type: 'string' }, source: { type: 'string', multiple: true }, class: { type: 'string', multiple: true }, json: { type: 'boolean' } })
  const api = await client(values)
  switch (positionals[0]) {
    case 'list':
    case undefined: {
      const { body } = await api.request<{ mode: string, entries: Array<{ peerId: string, name: string, sources: string[], classes: string[] }> }>('GET', '/v1/trust')
      if (values.json === true) { out(JSON.stringify(body)); return EXIT.OK }
      out(`mode: ${body.mode}`)
      out(body.entries.length === 0 ? 'no trusted communities' : formatTable(['NAME', 'PEER ID', 'SOURCES', 'CLASSES'], body.entries.map(e => [e.name, e.peerId, e.sources.join(','), e.classes.join(',')])))
      return EXIT.OK
    }
    case 'add': {
      const peerId = str(values['peer-id'])
      const name = str(values.name)
      const sources = list(values.source)
      if (peerId === undefined || name === undefined || sources === undefined) throw new UsageError('usage: cdgossip trust add --peer-id ID --name NAME --source PREFIX... [--class PATTERN]...')
      const classes = list(values.class)
      const { body } = await api.request<{ name: string, peerId: string }>('POST', '/v1/trust', { json: { peerId, name, sources, ...(classes === undefined ? {} : { classes }) } })
      out(`trusted ${body.name} (${body.peerId})`)
      return EXIT.OK
    }
    case 'remove': {
      const who = positionals[1]
      if (who === undefined) throw new UsageError('usage: cdgossip trust remove PEER_ID|NAME')
      await api.request('DELETE', `/v1/trust/${encodeURIComponent(who)}`)
      out(`removed ${who}`)
      return EXIT.OK
    }
    default:
      throw new UsageError(`unknown trust action ${positionals[0]}: use list, add or remove`)
  }
}

function parseStart (from: string | undefined): Record<string, string> | undefined {
  if (from === undefined) return undefined
  if (from === 'now' || from === 'beginning') return { kind: from }
  if (from.startsWith('cursor:')) return { kind: 'cursor', cursor: from.slice('cursor:'.length) }
  if (from.startsWith('time:')) return { kind: 'time', time: from.slice('time:'.length) }
  throw new UsageError('--from takes now, beginning, cursor:CURSOR or time:ISO8601')
}

async function cmdSubscribe (args: string[], out: Out): Promise<number> {
  const { values } = parse(args, {
    id: { type: 'string' },
    class: { type: 'string', multiple: true },
    origin: { type: 'string', multiple: true },
    'source-prefix': { type: 'string' },
    subject: { type: 'string' },
    outcome: { type: 'string' },
    from: { type: 'string' },
    webhook: { type: 'string' },
    structured: { type: 'boolean' },
    header: { type: 'string', multiple: true },
    'include-untrusted': { type: 'boolean' }
  }, false)
  const classes = list(values.class)
  if (classes === undefined) throw new UsageError('subscribe needs at least one --class PATTERN (e.g. artifact.*, pipelinerun.finished, *)')
  const filter: Record<string, unknown> = {}
  if (values.origin !== undefined) filter.origins = list(values.origin)
  if (str(values['source-prefix']) !== undefined) filter.sourcePrefix = str(values['source-prefix'])
  if (str(values.subject) !== undefined) filter.subject = str(values.subject)
  if (str(values.outcome) !== undefined) filter.outcome = str(values.outcome)
  const headers: Record<string, string> = {}
  for (const h of list(values.header) ?? []) {
    const eq = h.indexOf('=')
    if (eq <= 0) throw new UsageError(`--header takes NAME=VALUE, got ${h}`)
    headers[h.slice(0, eq)] = h.slice(eq + 1)
  }
  const webhook = str(values.webhook)
  const sink = webhook === undefined
    ? { type: 'store' }
    : { type: 'webhook', url: webhook, mode: values.structured === true ? 'structured' : 'binary', ...(Object.keys(headers).length > 0 ? { headers } : {}) }
  const input: Record<string, unknown> = { classes, filter, sink, includeUntrusted: values['include-untrusted'] === true }
  const start = parseStart(str(values.from))
  if (start !== undefined) input.start = start
  if (str(values.id) !== undefined) input.id = str(values.id)
  const api = await client(values)
  const { body } = await api.request<{ id: string, classes: string[] }>('POST', '/v1/subscriptions', { json: input })
  out(`subscription ${body.id}: ${body.classes.join(', ')}`)
  return EXIT.OK
}

async function cmdSubscriptions (args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } })
  const api = await client(values)
  const id = positionals[1]
  const needId = (): string => {
    if (id === undefined) throw new UsageError(`usage: cdgossip subscriptions ${positionals[0] ?? ''} ID`)
    return encodeURIComponent(id)
  }
  switch (positionals[0]) {
    case 'list':
    case undefined: {
      const { body } = await api.request<Array<{ id: string, classes: string[], sink: { type: string, url?: string }, start: { kind: string }, origin: string }>>('GET', '/v1/subscriptions')
      if (values.json === true) { out(JSON.stringify(body)); return EXIT.OK }
      out(body.length === 0 ? 'no subscriptions' : formatTable(['ID', 'CLASSES', 'SINK', 'START', 'FROM'], body.map(s => [s.id, s.classes.join(','), s.sink.type === 'webhook' ? `webhook ${s.sink.url ?? ''}` : 'store', s.start.kind, s.origin])))
      return EXIT.OK
    }
    case 'remove':
      await api.request('DELETE', `/v1/subscriptions/${needId()}`)
      out(`removed ${id ?? ''}`)
      return EXIT.OK
    case 'dead-letters': {
      const { body } = await api.request<Array<{ digest: string, attempts: number, lastStatus?: number, lastError?: string, failedAt: string }>>('GET', `/v1/subscriptions/${needId()}/dead-letters`)
      if (values.json === true) { out(JSON.stringify(body)); return EXIT.OK }
      out(body.length === 0 ? 'no dead letters' : formatTable(['DIGEST', 'ATTEMPTS', 'STATUS', 'ERROR', 'FAILED AT'], body.map(d => [d.digest.slice(0, 16), String(d.attempts), String(d.lastStatus ?? ''), d.lastError ?? '', d.failedAt])))
      return EXIT.OK
    }
    case 'redrive': {
      const { body } = await api.request<{ redriven: number }>('POST', `/v1/subscriptions/${needId()}/dead-letters`, { json: {} })
      out(`re-queued ${body.redriven} dead letters`)
      return EXIT.OK
    }
    default:
      throw new UsageError(`unknown subscriptions action ${positionals[0]}: use list, remove, dead-letters or redrive`)
  }
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
  for (const [k, v] of Object.entries(body.counters)) rows.push([k, String(v)])
  out(formatTable(['', ''], rows, { header: false }))
  return EXIT.OK
}

async function cmdTail (args: string[], out: Out): Promise<number> {
  const { values } = parse(args, FILTERS, false)
  const api = await followingClient(values)
  const { tailEvents } = await import('./cli-tail.js')
  const controller = new AbortController()
  const stop = (): void => { controller.abort() }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  try {
    await tailEvents(api, queryString(values), controller.signal, e => { out(values.json === true ? JSON.stringify(e) : eventLine(e).join('  ')) })
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
  }
  return EXIT.OK
}

const COMMANDS: Record<string, (args: string[], out: Out, ctx: CommandContext) => Promise<number>> = {
  init: cmdInit,
  start: cmdStart,
  config: cmdConfig,
  publish: cmdPublish,
  events: cmdEvents,
  tail: cmdTail,
  export: cmdExport,
  import: cmdImport,
  verify: cmdVerify,
  trust: cmdTrust,
  subscribe: cmdSubscribe,
  subscriptions: cmdSubscriptions,
  peers: cmdPeers,
  status: cmdStatus
}

/** The package version; the module runs from dist/src/ (the bin) or src/ (tests). */
async function version (): Promise<string> {
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(await readFile(new URL(rel, import.meta.url), 'utf8')) as { name?: string, version?: string }
      if (pkg.name === 'cdgossip' && typeof pkg.version === 'string') return pkg.version
    } catch {
      // not at this depth: try the next
    }
  }
  return '0.0.0'
}

/** Walks `cause` links (bounded: a cycle must not hang the error path). */
function causes (e: unknown): unknown[] {
  const out: unknown[] = []
  for (let c = (e as { cause?: unknown } | undefined)?.cause; c !== undefined && c !== null && out.length < 8; c = (c as { cause?: unknown }).cause) out.push(c)
  return out
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
    const why = listen.code === 'EADDRINUSE' ? 'the address is in use (another node running? choose another --api-port or --p2p-port)' : listen.code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)' : 'no such local address'
    return new CdgossipError('CDG_CONFIG', `cannot listen on${where}: ${why}`, { cause: e })
  }
  return e
}

let stdoutGuarded = false

/**
 * A line on stdout. When the reader goes away (`cdgossip export | head -1`) the write fails with
 * EPIPE; that is the reader's choice, not a failure: exit quietly instead of a stack trace.
 */
function stdoutLine (line: string): void {
  if (!stdoutGuarded) {
    stdoutGuarded = true
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(EXIT.OK)
      throw e
    })
  }
  process.stdout.write(line + '\n')
}

/** Runs one command; returns the exit code. Never throws for expected failures. */
export async function main (argv: string[], out: Out = stdoutLine, err: Out = line => { process.stderr.write(line + '\n') }, progress: ProgressStream = process.stderr): Promise<number> {
  const [command, ...rest] = argv
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    if (command === undefined) err(USAGE)
    else out(USAGE)
    return command === undefined ? EXIT.USAGE : EXIT.OK
  }
  if (command === '--version' || command === '-v') {
    out(await version())
    return EXIT.OK
  }
  const run = COMMANDS[command]
  if (run === undefined) {
    err(`cdgossip: unknown command ${command}\n${USAGE}`)
    return EXIT.USAGE
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    out(USAGE)
    return EXIT.OK
  }
  try {
    return await run(rest, out, { progress })
  } catch (e) {
    if (e instanceof UsageError) {
      err(`cdgossip ${command}: ${e.message}`)
      return EXIT.USAGE
    }
    if (e instanceof ApiError) {
      err(`cdgossip ${command}: ${e.statusCode} ${e.details?.code ?? ''}: ${e.message}`)
      for (const v of e.details?.violations ?? []) err(`  ${v.path === '' ? '/' : v.path}: ${v.message}`)
      for (const m of e.details?.mismatches ?? []) err(`  ${typeof m === 'string' ? m : JSON.stringify(m)}`)
      return EXIT.FAILED
    }
    if (isCdgossipError(e)) {
      // the causes say why (LevelDB's, the OS's): "store open failed" alone helps nobody
      const why = causes(e).map(c => (c as Error)?.message?.split('\n')[0]).filter((m): m is string => typeof m === 'string' && m !== '' && !e.message.includes(m))
      err(`cdgossip ${command}: ${e.message}${why.length > 0 ? ` (${why.join(': ')})` : ''}`)
      return e.code === 'CDG_CONFIG' || e.code === 'CDG_NOT_STARTED' ? EXIT.CONFIG : EXIT.FAILED
    }
    const code = (e as NodeJS.ErrnoException).code
    // the file system said no (missing input file, a data dir that is a file, no permission)
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM' || code === 'EISDIR' || code === 'ENOTDIR' || code === 'EEXIST') {
      err(`cdgossip ${command}: ${(e as Error).message}`)
      return EXIT.FAILED
    }
    throw e
  }
}
