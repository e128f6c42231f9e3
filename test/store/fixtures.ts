import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { onTestFinished } from 'vitest'
import { createEventStore } from '../../src/store/index.js'
import type { EventStore, EventStoreInit } from '../../src/store/index.js'
import type { CDEvent, SignedEvent } from '../../src/events/types.js'

/**
 * Store tests need records with the right shape, not real signatures: the store never verifies.
 * The wire JSON follows the project's format, with a placeholder DSSE envelope.
 */
export interface FixtureOptions {
  id?: string
  source?: string
  type?: string
  subjectId?: string
  chainId?: string
  timestamp?: string
  origin?: string
  sequence?: number
  /** extra subject content, to make two otherwise equal events differ */
  content?: Record<string, unknown>
}

export const ORIGIN_A = '12D3KooWAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
export const ORIGIN_B = '12D3KooWBbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'

let nextId = 0

/** Class of a CDEvents type as events/ defines it (`pipelinerun.finished`, `x.tool-resource.created`). */
export function classOf (type: string): string {
  const parts = type.split('.')
  if (parts[1] === 'cdeventsx') return `x.${parts[2] ?? ''}.${parts[3] ?? ''}`
  return `${parts[2] ?? ''}.${parts[3] ?? ''}`
}

export function makeEvent (opts: FixtureOptions = {}): SignedEvent {
  nextId++
  const type = opts.type ?? 'dev.cdevents.pipelinerun.finished.0.3.0'
  const source = opts.source ?? '/event/source/123'
  const id = opts.id ?? `event-${nextId}-${Math.random().toString(36).slice(2)}`
  const origin = opts.origin ?? ORIGIN_A
  const sequence = opts.sequence ?? nextId
  const timestamp = opts.timestamp ?? '2024-05-01T10:00:00.000Z'
  const cdevent: CDEvent = {
    context: {
      specversion: '0.5.1',
      id,
      source,
      type,
      timestamp,
      ...(opts.chainId === undefined ? {} : { chainId: opts.chainId })
    },
    subject: {
      id: opts.subjectId ?? 'mySubject123',
      source,
      content: { pipelineName: 'myPipeline', outcome: 'success', ...opts.content }
    }
  }
  return recordOf(cdevent, origin, sequence)
}

/**
 * The store's shape for a whole CDEvent (links, customData and all) as signing/ writes it, with a
 * placeholder signature: the store never verifies.
 */
export function recordOf (cdevent: CDEvent, origin: string, sequence: number): SignedEvent {
  const { id, source, type, timestamp } = cdevent.context
  const data = new TextEncoder().encode(JSON.stringify(cdevent))
  const attributes = {
    specversion: '1.0' as const,
    id,
    source,
    type,
    subject: cdevent.subject.id,
    time: timestamp,
    datacontenttype: 'application/json',
    // the wire form signing/ writes: 16 zero-padded digits
    sequence: String(sequence).padStart(16, '0'),
    signedextattrs: 'sequence',
    dssematerial: Buffer.from(JSON.stringify({ payloadType: 'test', signatures: [{ keyid: origin, sig: 'AA==' }] })).toString('base64')
  }
  const bytes = new TextEncoder().encode(JSON.stringify({ ...attributes, data_base64: Buffer.from(data).toString('base64') }))
  return {
    bytes,
    digest: createHash('sha256').update(bytes).digest('hex'),
    attributes,
    data,
    origin,
    sequence,
    cdevent,
    eventClass: classOf(type)
  }
}

export async function tempDir (): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cdgossip-store-'))
  onTestFinished(async () => { await fs.rm(dir, { recursive: true, force: true }) })
  return dir
}

/** A started store in a fresh directory, stopped and removed when the test finishes. */
export async function openStore (init: Partial<EventStoreInit> = {}): Promise<{ store: EventStore, dir: string }> {
  const dir = await tempDir()
  const store = await createEventStore({}, { path: dir, ...init })
  // Registered after tempDir's hook, so it runs first (vitest runs onTestFinished hooks in reverse).
  onTestFinished(async () => { await store.stop() })
  return { store, dir }
}

/** Collects an async iterable. */
export async function collect<T> (it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of it) out.push(item)
  return out
}

/** Appends events one by one with a trusted flag, returning them in order. */
export async function appendAll (store: EventStore, events: SignedEvent[], trusted = true): Promise<SignedEvent[]> {
  for (const event of events) await store.append(event, { trusted })
  return events
}
