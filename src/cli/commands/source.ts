import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import type { NodeInfo, SourceTestResult, SourceView } from '../../contracts/node-facade.js'
import { UsageError, parse, type Options } from '../args.js'
import type { CommandGroup, Out } from '../command.js'
import { client } from '../connect.js'
import { formatTable } from '../format.js'

/**
 * `cdgossip source add|list|remove|test`: tool webhook sources of a running node, through
 * /v1/sources. The secret never passes through here: the node reads it from the file or the
 * environment variable named.
 */

type Values = Record<string, string | boolean | string[] | undefined>

/** What the command uses of the CLI: its argument parser, client and usage errors. */
interface SourceCommandDeps {
  parse: (args: string[], options: Options) => { values: Values, positionals: string[] }
  client: typeof client
  usage: (message: string) => Error
}

const DEPS: SourceCommandDeps = { parse: (a, o) => parse(a, o), client, usage: m => new UsageError(m) }

/** The tool webhook sources of a running node. */
export const SOURCE_COMMANDS: CommandGroup = {
  source: async (args: string[], out: Out) => await cmdSource(args, out, DEPS)
}

export const SOURCE_USAGE = `usage: cdgossip source add --name NAME --kind KIND (--secret-file FILE | --secret-env VAR)
                          [--previous-secret-file F | --previous-secret-env VAR] [--setting KEY=VALUE]... [--settings-file FILE]
       cdgossip source list [--json]
       cdgossip source remove NAME
       cdgossip source test --name NAME PAYLOAD.json [--header KEY=VALUE]... [--json]`

const OPTIONS: Options = {
  name: { type: 'string' },
  kind: { type: 'string' },
  'secret-file': { type: 'string' },
  'secret-env': { type: 'string' },
  'previous-secret-file': { type: 'string' },
  'previous-secret-env': { type: 'string' },
  setting: { type: 'string', multiple: true },
  'settings-file': { type: 'string' },
  header: { type: 'string', multiple: true },
  json: { type: 'boolean' }
}

const str = (v: unknown): string | undefined => typeof v === 'string' ? v : undefined
const list = (v: unknown): string[] => Array.isArray(v) ? v.map(String) : []

function keyValues (items: string[], flag: string, usage: (m: string) => Error): Array<[string, string]> {
  return items.map(item => {
    const eq = item.indexOf('=')
    if (eq <= 0) throw usage(`${flag} takes KEY=VALUE, got ${item}`)
    return [item.slice(0, eq), item.slice(eq + 1)]
  })
}

/** A setting's value: JSON when it is a JSON object or list (the generic kind's mappings), else the text. */
function settingValue (raw: string): unknown {
  if (!/^\s*[[{]/.test(raw)) return raw
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}

export async function cmdSource (args: string[], out: (line: string) => void, deps: SourceCommandDeps): Promise<number> {
  const { values, positionals } = deps.parse(args, OPTIONS)
  const action = positionals[0]
  switch (action) {
    case 'list':
    case undefined: return await listSources(values, out, deps)
    case 'add': return await add(values, out, deps)
    case 'remove': {
      const name = positionals[1]
      if (name === undefined || positionals.length > 2) throw deps.usage(SOURCE_USAGE)
      const api = await deps.client(values)
      await api.request('DELETE', `/v1/sources/${encodeURIComponent(name)}`)
      out(`removed source ${name}`)
      return 0
    }
    case 'test': return await test(values, positionals.slice(1), out, deps)
    default: throw deps.usage(`unknown source action ${action}: use add, list, remove or test\n${SOURCE_USAGE}`)
  }
}

async function add (values: Values, out: (line: string) => void, deps: SourceCommandDeps): Promise<number> {
  const name = str(values.name)
  const kind = str(values.kind)
  if (name === undefined || kind === undefined) throw deps.usage(SOURCE_USAGE)
  const body: Record<string, unknown> = { name, kind }
  // the node may run elsewhere in the file system's terms (another working directory): absolute paths
  for (const [flag, field] of [['secret-file', 'secretFile'], ['previous-secret-file', 'previousSecretFile']] as const) {
    const path = str(values[flag])
    if (path !== undefined) body[field] = resolve(path)
  }
  for (const [flag, field] of [['secret-env', 'secretEnv'], ['previous-secret-env', 'previousSecretEnv']] as const) {
    const variable = str(values[flag])
    if (variable !== undefined) body[field] = variable
  }
  if ((body.secretFile === undefined) === (body.secretEnv === undefined)) throw deps.usage(`give exactly one of --secret-file and --secret-env\n${SOURCE_USAGE}`)
  let settings: Record<string, unknown> = {}
  const file = str(values['settings-file'])
  if (file !== undefined) {
    const parsed: unknown = parseYaml(await readFile(file, 'utf8'))
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw deps.usage(`--settings-file ${file} must hold a mapping (YAML or JSON)`)
    settings = parsed as Record<string, unknown>
  }
  for (const [key, value] of keyValues(list(values.setting), '--setting', deps.usage)) settings[key] = settingValue(value)
  if (Object.keys(settings).length > 0) body.settings = settings
  const api = await deps.client(values)
  const { body: created } = await api.request<SourceView>('POST', '/v1/sources', { json: body })
  const { body: info } = await api.request<NodeInfo>('GET', '/v1/node')
  out(`source ${created.name} (${created.kind}) added`)
  out(`webhook URL  ${info.hooksUrl === undefined ? '(hooks listener not running)' : `${info.hooksUrl}/hooks/${created.name}`}  (behind your reverse proxy: https://<host>/hooks/${created.name})`)
  return 0
}

async function listSources (values: Values, out: (line: string) => void, deps: SourceCommandDeps): Promise<number> {
  const api = await deps.client(values)
  const { body } = await api.request<SourceView[]>('GET', '/v1/sources')
  if (values.json === true) { out(JSON.stringify(body)); return 0 }
  if (body.length === 0) { out('no sources'); return 0 }
  const { body: info } = await api.request<NodeInfo>('GET', '/v1/node')
  out(`hooks listener: ${info.hooksUrl ?? '(not running)'}`)
  out(formatTable(['NAME', 'KIND', 'FROM', 'STATUS', 'SECRET', 'RECEIVED', 'PUBLISHED', 'IGNORED', 'REFUSED', 'FAILED', 'LIMITED'], body.map(s => [
    s.name, s.kind, s.origin, s.status, s.secretFile !== undefined ? `file ${s.secretFile}` : `env ${s.secretEnv ?? ''}`,
    String(s.counts.received), String(s.counts.published), String(s.counts.ignored), String(s.counts.refused), String(s.counts.failed), String(s.counts.limited)
  ])))
  for (const s of body) if (s.problem !== undefined) out(`${s.name}: ${s.problem}`)
  return 0
}

async function test (values: Values, positionals: string[], out: (line: string) => void, deps: SourceCommandDeps): Promise<number> {
  const name = str(values.name)
  const [file] = positionals
  if (name === undefined || file === undefined || positionals.length > 1) throw deps.usage(SOURCE_USAGE)
  const headers = Object.fromEntries(keyValues(list(values.header), '--header', deps.usage))
  const payload = await readFile(file, 'utf8')
  const api = await deps.client(values)
  const { body } = await api.request<SourceTestResult>('POST', `/v1/sources/${encodeURIComponent(name)}/test`, { json: { body: payload, headers } })
  if (values.json === true) { out(JSON.stringify(body)); return 0 }
  if ('ignored' in body) {
    out(`no CDEvent: ignored (${body.ignored})`)
    return 0
  }
  out(`${body.events.length} CDEvent${body.events.length === 1 ? '' : 's'} (not published):`)
  for (const event of body.events) out(JSON.stringify(event, null, 2))
  return 0
}
