import { createHash } from 'node:crypto'
import http from 'node:http'
import type { IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Level } from 'level'
import type { CDEvent } from '../../src/events/types.js'
import type { StateSection, StoredEvent } from '../../src/store/types.js'
import type { Subscription, WebhookSink } from '../../src/subscriptions/types.js'
import type { DeliverySource } from '../../src/delivery/index.js'

export const ORIGIN = '12D3KooWExampleOriginPeer'

export interface FixtureOptions {
  subject?: string
  origin?: string
  eventClass?: string
  trusted?: boolean
  receivedAt?: string
}

/**
 * A fabricated record: real CloudEvents JSON wire bytes with the data in data_base64 and a digest
 * over them, but a placeholder signature (delivery never verifies).
 */
export function makeStored (n: number, options: FixtureOptions = {}): StoredEvent {
  const eventClass = options.eventClass ?? 'pipelinerun.finished'
  const [subjectName, predicate] = eventClass.split('.') as [string, string]
  const type = `dev.cdevents.${subjectName}.${predicate}.0.2.0`
  const id = `event-${n}`
  const source = '/ci/jenkins'
  const timestamp = new Date(Date.UTC(2025, 0, 1, 0, 0, n)).toISOString()
  const subjectId = options.subject ?? `run-${n}`
  const cdevent: CDEvent = {
    context: { specversion: '0.5.1', id, source, type, timestamp },
    subject: { id: subjectId, source, content: { pipelineName: 'build', outcome: 'success', url: `https://ci.example/run/${n}` } }
  }
  // Deliberately not JSON.stringify's canonical form: delivery must forward these exact bytes.
  const data = new TextEncoder().encode(JSON.stringify(cdevent, null, 1) + '\n')
  const sequence = String(n)
  const dssematerial = Buffer.from(JSON.stringify({ payloadType: 'application/vnd.cncf.cloudevents', signatures: [{ keyid: ORIGIN, sig: 'c2ln' }] })).toString('base64')
  const attributes = {
    specversion: '1.0' as const,
    id,
    source,
    type,
    subject: subjectId,
    time: timestamp,
    datacontenttype: 'application/json',
    sequence,
    signedextattrs: 'sequence',
    dssematerial
  }
  const { datacontenttype, ...rest } = attributes
  const wire = { ...rest, datacontenttype, data_base64: Buffer.from(data).toString('base64') }
  const bytes = new TextEncoder().encode(JSON.stringify(wire))
  const digest = createHash('sha256').update(bytes).digest('hex')
  return {
    event: {
      bytes,
      digest,
      attributes,
      data,
      origin: options.origin ?? ORIGIN,
      sequence: n,
      cdevent,
      eventClass
    },
    cursor: cursorOf(n),
    receivedAt: options.receivedAt ?? new Date(Date.UTC(2025, 0, 2, 0, 0, n)).toISOString(),
    trusted: options.trusted ?? true
  }
}

export function cursorOf (n: number): string {
  return String(n).padStart(12, '0')
}

/**
 * A store stand-in: an array in arrival order plus listeners, as the DeliverySource contract
 * describes. `appendSilently` + `announce` reproduce a record readable before its listeners run.
 */
export class MemorySource implements DeliverySource {
  readonly events: StoredEvent[] = []
  private readonly listeners = new Set<(stored: StoredEvent) => void>()
  /** called at the start of every readAfter, before the read is taken */
  beforeRead: ((cursor: string | undefined) => void) | undefined

  append (...events: StoredEvent[]): void {
    for (const stored of events) {
      this.events.push(stored)
      this.announce(stored)
    }
  }

  appendSilently (stored: StoredEvent): void {
    this.events.push(stored)
  }

  announce (stored: StoredEvent): void {
    for (const listener of [...this.listeners]) listener(stored)
  }

  async readAfter (cursor: string | undefined, limit: number): Promise<StoredEvent[]> {
    this.beforeRead?.(cursor)
    await Promise.resolve()
    const start = cursor === undefined ? 0 : this.events.findIndex(e => e.cursor === cursor) + 1
    if (cursor !== undefined && start === 0) throw new Error(`unknown cursor ${cursor}`)
    return this.events.slice(start, start + limit)
  }

  lastCursor (): string | undefined {
    return this.events.at(-1)?.cursor
  }

  async cursorAtTime (iso: string): Promise<string | undefined> {
    const index = this.events.findIndex(e => e.receivedAt >= iso)
    if (index === -1) return this.lastCursor()
    return index === 0 ? undefined : this.events[index - 1]?.cursor
  }

  async getEvent (digest: string): Promise<StoredEvent | undefined> {
    return this.events.find(e => e.event.digest === digest)
  }

  onStored (listener: (stored: StoredEvent) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  listenerCount (): number {
    return this.listeners.size
  }
}

/** A StateSection kept in a Map, so it outlives any one service instance. */
export class MemoryStateSection<T> implements StateSection<T> {
  readonly map = new Map<string, T>()

  async get (key: string): Promise<T | undefined> {
    const value = this.map.get(key)
    return value === undefined ? undefined : structuredClone(value)
  }

  async put (key: string, value: T): Promise<void> {
    this.map.set(key, structuredClone(value))
  }

  async del (key: string): Promise<void> {
    this.map.delete(key)
  }

  async * entries (): AsyncIterable<[string, T]> {
    for (const [key, value] of this.map) yield [key, structuredClone(value)]
  }
}

/** A StateSection over a real LevelDB sublevel. */
export function levelSection<T> (db: Level<string, unknown>, name: string): StateSection<T> {
  const sub = db.sublevel<string, T>(name, { valueEncoding: 'json' })
  return {
    async get (key) { return await sub.get(key) },
    async put (key, value) { await sub.put(key, value) },
    async del (key) { await sub.del(key) },
    async * entries () {
      for await (const entry of sub.iterator()) yield entry
    }
  }
}

export function matches (subscription: Subscription, stored: StoredEvent): boolean {
  const classOk = subscription.classes.some(c => c === '*' || c === stored.event.eventClass ||
    (c.endsWith('.*') && stored.event.eventClass.startsWith(c.slice(0, -1))))
  const originOk = subscription.filter.origins === undefined || subscription.filter.origins.includes(stored.event.origin)
  const subjectOk = subscription.filter.subject === undefined || subscription.filter.subject === stored.event.cdevent.subject.id
  return classOk && originOk && subjectOk && (stored.trusted || subscription.includeUntrusted)
}

export function webhookSubscription (id: string, sink: Omit<WebhookSink, 'type' | 'mode'> & Partial<Pick<WebhookSink, 'mode'>>, overrides: Partial<Subscription> = {}): Subscription {
  return {
    id,
    classes: ['*'],
    filter: {},
    includeUntrusted: false,
    start: { kind: 'beginning' },
    sink: { type: 'webhook', mode: 'binary', ...sink },
    createdAt: new Date().toISOString(),
    origin: 'api',
    ...overrides
  }
}

export type Behaviour = { status: number, headers?: Record<string, string>, body?: string } | 'hang'

export interface ReceivedRequest {
  method: string
  headers: IncomingHttpHeaders
  body: Buffer
  answered: number | 'hang'
}

/** A real HTTP receiver on 127.0.0.1 that answers from a script, then with `fallback`. */
export class Receiver {
  readonly requests: ReceivedRequest[] = []
  script: Behaviour[] = []
  fallback: Behaviour = { status: 200 }
  private readonly server: http.Server

  private constructor (server: http.Server) {
    this.server = server
  }

  static async start (): Promise<Receiver> {
    const server = http.createServer()
    const receiver = new Receiver(server)
    server.on('request', (req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        const behaviour = receiver.script.shift() ?? receiver.fallback
        receiver.requests.push({
          method: req.method ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks),
          answered: behaviour === 'hang' ? 'hang' : behaviour.status
        })
        if (behaviour === 'hang') return
        res.writeHead(behaviour.status, behaviour.headers ?? {})
        res.end(behaviour.body ?? '')
      })
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    return receiver
  }

  get url (): string {
    const { port } = this.server.address() as AddressInfo
    return `http://127.0.0.1:${port}/hook`
  }

  /** ce-id (or `x-cdgossip-cursor`) of the requests answered with a 2xx, in order */
  acked (): string[] {
    return this.requests
      .filter(r => typeof r.answered === 'number' && r.answered >= 200 && r.answered < 300)
      .map(r => String(r.headers['ce-id'] ?? r.headers['x-cdgossip-cursor']))
  }

  async close (): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>(resolve => this.server.close(() => { resolve() }))
  }
}

export { waitFor } from '../helpers/wait-for.js'
