import { UsageError, list, parse, str } from '../args.js'
import { EXIT } from '../command.js'
import type { CommandGroup, Out } from '../command.js'
import { client } from '../connect.js'
import { formatTable } from '../format.js'

/** Subscriptions of a running node: create, list, remove, and their dead letters. */
export const SUBSCRIPTION_COMMANDS: CommandGroup = {
  subscribe: cmdSubscribe,
  subscriptions: cmdSubscriptions
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
