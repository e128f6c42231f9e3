import { readFile } from 'node:fs/promises'
import { isCdgossipError } from '../../errors.js'
import type { EventView } from '../../events/event-view.js'
import { FILTERS, UsageError, parse, queryString, shellWord, str, withoutFlag } from '../args.js'
import { importRecords, parseJsonDocuments, readJsonInput } from '../client.js'
import type { ApiClient } from '../client.js'
import { EXIT } from '../command.js'
import type { CommandContext, CommandGroup, Out } from '../command.js'
import { client, followingClient } from '../connect.js'
import { formatTable } from '../format.js'
import { findJsonSyntaxError, positionOf } from '../json-syntax.js'
import { Progress } from '../progress.js'

/** Events in and out of a node, and offline checks of signed records. */
export const EVENT_COMMANDS: CommandGroup = {
  publish: cmdPublish,
  events: cmdEvents,
  tail: cmdTail,
  export: cmdExport,
  import: cmdImport,
  verify: cmdVerify
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
  // idempotent by (source, id): a repeat is answered `existing`, also by another node of the community
  const { body } = await api.request<unknown>('POST', '/v1/events', { json: events.length === 1 ? events[0] : events, idempotent: true })
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
  const parseLine = (line: string): { value?: unknown, syntax?: string } => {
    try {
      return { value: JSON.parse(line) }
    } catch (err) {
      const problem = findJsonSyntaxError(line)
      return { syntax: problem === undefined ? (err as Error).message : `column ${positionOf(line, problem.offset).column}: ${problem.message}` }
    }
  }
  const first = numbered[0]
  if (first === undefined) return []
  const items = numbered.length === 1 || parseLine(first.line).syntax === undefined
    ? numbered.map(l => ({ label: l.label, ...parseLine(l.line) }))
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
  const { parseCloudEventJson, verifyCloudEvent } = await import('../../signing/index.js')
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
  const { tailEvents } = await import('../tail.js')
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
