import { parseArgs, type ParseArgsConfig } from 'node:util'
import { access, readFile } from 'node:fs/promises'
import { stringify as toYaml } from 'yaml'
import { CdgossipError, isCdgossipError } from './errors.js'
import { ConfigError, loadConfigWithSource, maskConfigSecrets, maskWebhookUrl, parsePort, resolveDataDir, selfTrustProblems, type ConfigFlags, type NodeConfig } from './config.js'
import { dataDirPaths, initDataDir, readApiUrl } from './data-dir.js'
import { ApiClient, ApiError, UnreachableNodeError, importRecords, parseJsonDocuments, readJsonInput, resolveClient } from './client.js'
import type { NodeConfiguration } from './contracts/node-facade.js'
import { formatTable } from './cli-format.js'
import { findJsonSyntaxError, positionOf } from './json-syntax.js'
import { Progress, type ProgressStream } from './cli-progress.js'
import type { EventView } from './events/event-view.js'
import { cmdArtifact, cmdTrace, type TraceCliKit } from './cli-trace.js'

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
  config    show [--data-dir D] [--json]                                what the running node uses (else the file, labelled)
  config    check [--data-dir D] [start's flags]                         validate as start would: exit 0 valid, 3 not

Events (talk to a running node: --api-url/CDGOSSIP_API_URL, --token/CDGOSSIP_TOKEN, or the data dir):
  publish   [FILE|-]                          publish one event, a JSON array, or JSON lines
  events    [--type T|PATTERN] [--source S] [--subject S] [--chain-id C] [--origin O]
            [--since T] [--until T] [--limit N] [--cursor C] [--all] [--json]
  tail      [same filters] [-n N | --from-beginning] [--json]
                                              print new events live (-n: the last N first), resuming after reconnects
  export    [same filters] > file.jsonl       write signed events as JSON lines
  import    FILE                              verify and store signed events from a JSON-lines export
  verify    FILE                              check signed records offline: a verdict per line of an export
  trace     DIGEST|CHAIN_ID|PURL [--direction up|down|both] [--depth N] [--json]
                                              the events upstream/downstream, as an indented tree
  artifact  PURL [--json]                     one artifact across communities: builds, tests, the confidence summary

Federation:
  trust     list | add --peer-id ID --name N --source PREFIX... [--class PATTERN]... | remove ID|NAME
  subscribe --class PATTERN... [--id ID] [--origin O]... [--source-prefix P] [--subject S] [--outcome O]
            [--from now|beginning|cursor:C|time:T] [--include-untrusted]
            [--webhook URL [--structured] [--header K=V]... [--max-attempts N] [--max-age SECONDS] [--timeout MS]]
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

function parse (args: string[], options: Options, allowPositionals = true): { values: Record<string, string | boolean | string[] | undefined>, positionals: string[] } {
  const all = { ...COMMON, ...options }
  try {
    const { values, positionals } = parseArgs({ args: joinDashValues(args, all), options: all, allowPositionals, strict: true })
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

/**
 * `--api-url` (or CDGOSSIP_API_URL) as given, checked: `127.0.0.1:7070` without a scheme would
 * otherwise reach fetch as a URL whose scheme is `127.0.0.1` and fail as "unreachable".
 */
function apiUrlOption (values: Record<string, unknown>): string | undefined {
  const flag = str(values['api-url'])
  const env = process.env.CDGOSSIP_API_URL
  const [raw, where] = flag !== undefined ? [flag, '--api-url'] : env !== undefined && env !== '' ? [env, 'CDGOSSIP_API_URL'] : [undefined, '']
  if (raw === undefined) return undefined
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
  return raw
}

async function client (values: Record<string, unknown>): Promise<ApiClient> {
  const dataDir = resolveDataDir({ dataDir: str(values['data-dir']) })
  return await resolveClient({ dataDir, apiUrl: apiUrlOption(values), token: str(values.token) })
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

/** Pages of GET /v1/events (every page with `all`); returns the cursor of a page not read. */
async function pageEvents (api: ApiClient, q: URLSearchParams, all: boolean, each: (events: EventView[]) => void): Promise<string | undefined> {
  for (;;) {
    const { body } = await api.request<{ events: EventView[], next?: string }>('GET', `/v1/events?${q.toString()}`)
    each(body.events)
    if (!all || body.next === undefined) return body.next
    q.set('cursor', body.next)
  }
}

/** An argument as a POSIX shell reads it back (for commands the CLI suggests). */
function shellWord (word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`
}

/** `args` with `--flag V` / `--flag=V` left out. */
function withoutFlag (args: string[], flag: string): string[] {
  const out: string[] = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string
    if (arg === flag) i++
    else if (!arg.startsWith(`${flag}=`)) out.push(arg)
  }
  return out
}

type Out = (line: string) => void

/** What a command may use besides stdout lines: where progress goes (drawn only on a TTY). */
interface CommandContext {
  progress: ProgressStream
  /** a line on stderr: notes that are not the command's data */
  err: Out
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

/** The settings `start` takes as flags; `config check` takes the same, to check what a start would run with. */
const NODE_OPTIONS: Options = {
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
}

async function cmdStart (args: string[], out: Out): Promise<number> {
  const { values } = parse(args, NODE_OPTIONS, false)
  const flags = nodeFlags(values)
  const dataDir = resolveDataDir(flags)
  // checked before init writes anything: a bad --network must not end up in a new starter file
  const { config, file } = await loadConfigWithSource(flags)
  await initDataDir(dataDir, { network: flags.network })
  await checkSelfTrust(config, file)
  const { runNode } = await import('./run.js')
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
  const explicit = str(values['api-url']) !== undefined || (process.env.CDGOSSIP_API_URL ?? '') !== ''
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
  const { loadOrCreateIdentity } = await import('./signing/index.js')
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

async function cmdEvents (args: string[], out: Out, ctx: CommandContext): Promise<number> {
  const { values } = parse(args, FILTERS, false)
  const api = await client(values)
  const rows: string[][] = []
  const next = await pageEvents(api, queryString(values), values.all === true, events => {
    for (const e of events) {
      if (values.json === true) out(JSON.stringify(e))
      else rows.push(eventLine(e))
    }
  })
  if (values.json !== true) out(rows.length === 0 ? 'no events' : formatTable(EVENT_HEADERS, rows))
  // on stderr, so `--json` output stays pure data (and without the token: stderr ends up in
  // logs); a page cut short by the node's scan bound may be empty and still have a next one
  if (next !== undefined) ctx.err(`more events: cdgossip events ${[...withoutFlag(withoutFlag(args, '--cursor'), '--token'), '--cursor', next].map(shellWord).join(' ')}   (or --all for every page)`)
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
  const records = parseJsonDocuments(await readFile(positionals[0] as string, 'utf8'), positionals[0])
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

/** What `verify` checks: one item of the input and how to name it (`line 3`, `record 2`). */
interface VerifyItem {
  label: string
  value?: unknown
  /** the line is not JSON: why (with its column) */
  syntax?: string
}

/**
 * The items of a file to verify. JSON lines (an export) are taken line by line, so one broken line
 * is reported and the others are still checked; a file that is one JSON value (a pretty-printed
 * record, or an array of records) is taken whole.
 */
function verifyItems (input: string, name: string): VerifyItem[] {
  const text = input.replace(/^\uFEFF/, '')
  const lines = text.split('\n')
  const numbered = lines.map((line, i) => ({ line, label: `line ${i + 1}` })).filter(l => l.line.trim() !== '')
  const parse = (line: string): { value?: unknown, syntax?: string } => {
    try {
      return { value: JSON.parse(line) }
    } catch (err) {
      const problem = findJsonSyntaxError(line)
      return { syntax: problem === undefined ? (err as Error).message : `column ${positionOf(line, problem.offset).column}: ${problem.message}` }
    }
  }
  const first = numbered[0]
  if (first === undefined) return []
  const items = numbered.length === 1 || parse(first.line).syntax === undefined
    ? numbered.map(l => ({ label: l.label, ...parse(l.line) }))
    : [{ label: 'record 1', value: parseJsonDocuments(text, name)[0] }]
  if (items.length === 1 && Array.isArray(items[0]?.value)) {
    return items[0].value.map((value: unknown, i) => ({ label: `record ${i + 1}`, value }))
  }
  return items
}

const EXPORT_HINT = 'export signed records with `cdgossip export`'

/** Why a JSON value is not a signed record at all, when that is plain from its shape. */
function notARecord (value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const v = value as Record<string, unknown>
  if (v.specversion === undefined && typeof v.context === 'object' && typeof v.subject === 'object') return `this is a bare CDEvent, not a signed record: ${EXPORT_HINT}`
  if (typeof v.specversion === 'string' && v.dssematerial === undefined) return `this CloudEvent carries no signature (no dssematerial), so it is not a signed record: ${EXPORT_HINT}`
  return undefined
}

async function cmdVerify (args: string[], out: Out): Promise<number> {
  const { positionals } = parse(args, {})
  if (positionals.length !== 1) throw new UsageError('usage: cdgossip verify FILE')
  const file = positionals[0] as string
  const { parseCloudEventJson, verifyCloudEvent } = await import('./signing/index.js')
  const items = verifyItems(await readFile(file, 'utf8'), file)
  if (items.length === 0) throw new UsageError('no events in the file')
  let bad = 0
  for (const item of items) {
    // `cdgossip events --json` lines hold the signed record as their cloudEvent
    const view = item.value as { cloudEvent?: unknown, cdevent?: unknown } | undefined
    const record = typeof view === 'object' && view !== null && typeof view.cloudEvent === 'object' && view.cdevent !== undefined ? view.cloudEvent : item.value
    const problem = item.syntax !== undefined ? `not JSON: ${item.syntax}` : notARecord(record)
    if (problem !== undefined) {
      bad++
      out(`${item.label}: INVALID  ${problem}`)
      continue
    }
    try {
      const parsed = parseCloudEventJson(record)
      const result = verifyCloudEvent(parsed)
      out(`${item.label}: valid  signer=${result.signer} id=${parsed.attributes.id ?? ''} source=${parsed.attributes.source ?? ''}`)
    } catch (err) {
      bad++
      out(`${item.label}: INVALID  ${isCdgossipError(err) ? `${err.code}: ` : ''}${(err as Error).message}`)
    }
  }
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

/** `subscribe` flags for a webhook's retry limits, and the sink fields they set (ranges: the API's). */
const WEBHOOK_LIMIT_FLAGS: ReadonlyArray<[string, string]> = [['max-attempts', 'maxAttempts'], ['max-age', 'maxAgeSeconds'], ['timeout', 'timeoutMs']]

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
    'max-attempts': { type: 'string' },
    'max-age': { type: 'string' },
    timeout: { type: 'string' },
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
  const limits: Record<string, number> = {}
  for (const [flag, field] of WEBHOOK_LIMIT_FLAGS) {
    const raw = str(values[flag])
    if (raw === undefined) continue
    if (webhook === undefined) throw new UsageError(`--${flag} applies to webhook deliveries: add --webhook URL`)
    if (!/^[0-9]{1,9}$/.test(raw)) throw new UsageError(`--${flag} takes a whole number, got ${raw}`)
    limits[field] = Number(raw)
  }
  if (webhook === undefined && (values.structured === true || values.header !== undefined)) throw new UsageError('--structured and --header apply to webhook deliveries: add --webhook URL')
  const sink = webhook === undefined
    ? { type: 'store' }
    : { type: 'webhook', url: webhook, mode: values.structured === true ? 'structured' : 'binary', ...(Object.keys(headers).length > 0 ? { headers } : {}), ...limits }
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

/** `tail -n` bound: the API's (MAX_STREAM_LAST in api/). */
const MAX_TAIL_LINES = 1000

async function cmdTail (args: string[], out: Out): Promise<number> {
  const { values } = parse(args, { ...FILTERS, lines: { type: 'string', short: 'n' }, 'from-beginning': { type: 'boolean' } }, false)
  const lines = str(values.lines)
  const fromBeginning = values['from-beginning'] === true
  if (lines !== undefined && (!/^[0-9]{1,4}$/.test(lines) || Number(lines) > MAX_TAIL_LINES)) throw new UsageError(`-n takes a number of events from 0 to ${MAX_TAIL_LINES}, got ${lines}`)
  const starts = [lines !== undefined, fromBeginning, str(values.cursor) !== undefined].filter(Boolean).length
  if (starts > 1) throw new UsageError('-n, --from-beginning and --cursor each say where to start: give one')
  const query = queryString(values)
  // like tail -f: only what arrives from now on, unless told to show stored events first
  if (!fromBeginning && !query.has('cursor')) query.set('last', lines ?? '0')
  const api = await followingClient(values)
  const { tailEvents } = await import('./cli-tail.js')
  const controller = new AbortController()
  const stop = (): void => { controller.abort() }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  try {
    await tailEvents(api, query, controller.signal, e => { out(values.json === true ? JSON.stringify(e) : eventLine(e).join('  ')) })
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
  }
  return EXIT.OK
}

const traceKit: TraceCliKit = { parse: (args, options) => parse(args, options), client, usage: message => new UsageError(message) }

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
  status: cmdStatus,
  trace: async (args, out) => await cmdTrace(args, out, traceKit),
  artifact: async (args, out) => await cmdArtifact(args, out, traceKit)
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

/** `event 3 (id abc): ` for a problem of a refused batch (the API's index counts from 0, people from 1). */
function inBatch (problem: { index?: unknown, id?: unknown }): string {
  if (typeof problem.index !== 'number') return ''
  return `event ${problem.index + 1}${typeof problem.id === 'string' ? ` (id ${problem.id})` : ''}: `
}

/** A CloudEvent/CDEvent disagreement as a line: which attribute, what each side says. */
function describeMismatch (m: unknown): string {
  if (typeof m !== 'object' || m === null) return String(m)
  const { attribute, cloudEvent, cdevent, ...rest } = m as { attribute?: unknown, cloudEvent?: unknown, cdevent?: unknown, index?: unknown, id?: unknown }
  if (typeof attribute !== 'string') return JSON.stringify(m)
  const implied = cdevent === undefined ? 'a valid value' : JSON.stringify(cdevent)
  return `${inBatch(rest)}CloudEvent ${attribute}: ${cloudEvent === undefined ? 'missing' : JSON.stringify(cloudEvent)}, the CDEvent implies ${implied}`
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
    return await run(rest, out, { progress, err })
  } catch (e) {
    if (e instanceof UsageError) {
      err(`cdgossip ${command}: ${e.message}`)
      return EXIT.USAGE
    }
    if (e instanceof ApiError) {
      err(`cdgossip ${command}: ${e.statusCode} ${e.details?.code ?? ''}: ${e.message}`)
      // a field error's one violation repeats the message: print it once
      const violations = (e.details?.violations ?? []).filter(v => v.message !== e.message)
      for (const v of violations) err(`  ${inBatch(v)}${v.path === '' ? '/' : v.path}: ${v.message}`)
      for (const m of e.details?.mismatches ?? []) err(`  ${describeMismatch(m)}`)
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
