import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { PublishReceipt } from '../../src/api/types.js'
import { MAX_RECORD_BYTES } from '../../src/signing/index.js'
import { allEvents, artifactPublished, startNodes } from '../helpers/nodes.js'
import type { E2eNode } from '../helpers/nodes.js'

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const SPEC_DIR = path.resolve(REPO_ROOT, '../shared/cdevents-spec')
const SPEC_AVAILABLE = fs.existsSync(path.join(SPEC_DIR, 'conformance'))

type Json = Record<string, any>

/** The official conformance examples (45 standard, 1 custom), read at test time. */
function conformanceExamples (): Array<{ name: string, event: Json }> {
  const dir = path.join(SPEC_DIR, 'conformance')
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(dir, f))
  files.push(path.join(SPEC_DIR, 'custom', 'conformance.json'))
  return files.map((file) => ({ name: path.relative(SPEC_DIR, file), event: JSON.parse(fs.readFileSync(file, 'utf8')) as Json }))
}

/** Every example shares one (source, id): each publish gets its own id, all else unchanged. */
function withId (event: Json, id: string): Json {
  return { ...event, context: { ...event.context, id } }
}

function structured (event: Json): Json {
  return {
    specversion: '1.0',
    id: event.context.id,
    source: event.context.source,
    type: event.context.type,
    subject: event.subject.id,
    time: event.context.timestamp,
    datacontenttype: 'application/json',
    data: event
  }
}

/** CloudEvents HTTP binary mode: attributes as percent-encoded ce- headers, the CDEvent as the body. */
function binaryHeaders (event: Json): Record<string, string> {
  return {
    'content-type': 'application/json',
    'ce-specversion': '1.0',
    'ce-id': encodeURIComponent(event.context.id),
    'ce-source': encodeURIComponent(event.context.source),
    'ce-type': encodeURIComponent(event.context.type),
    'ce-subject': encodeURIComponent(event.subject.id),
    'ce-time': encodeURIComponent(event.context.timestamp)
  }
}

interface Answer { status: number, body: any }

async function post (node: E2eNode, body: string, headers: Record<string, string>, token: string | null = node.token): Promise<Answer> {
  const res = await fetch(`${node.node.apiUrl}/v1/events`, {
    method: 'POST',
    headers: { ...headers, ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    body
  })
  const text = await res.text()
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) }
}

const JSON_TYPE = { 'content-type': 'application/json' }

/** The stored record's data bytes: what the node signed. */
async function dataOf (node: E2eNode, digest: string): Promise<string> {
  const res = await fetch(`${node.node.apiUrl}/v1/events/${digest}`, { headers: { authorization: `Bearer ${node.token}` } })
  expect(res.status).toBe(200)
  const record = await res.json() as Json
  return Buffer.from(record.data_base64 as string, 'base64').toString('utf8')
}

describe('publishing over the real REST API', () => {
  it.skipIf(!SPEC_AVAILABLE)('takes every official conformance example in every content type and gives it back as sent', async () => {
    const [node] = await startNodes(1, { topology: 'none' }) as [E2eNode]
    const examples = conformanceExamples()
    expect(examples).toHaveLength(46)
    const sent = new Map<string, Json>()

    for (const { name, event } of examples) {
      const bare = withId(event, `${name}#bare`)
      const asStructured = withId(event, `${name}#structured`)
      const asBinary = withId(event, `${name}#binary`)
      const answers = [
        [bare, await post(node, JSON.stringify(bare), JSON_TYPE)],
        [asStructured, await post(node, JSON.stringify(structured(asStructured)), { 'content-type': 'application/cloudevents+json' })],
        [asBinary, await post(node, JSON.stringify(asBinary), binaryHeaders(asBinary))]
      ] as const
      for (const [event, answer] of answers) {
        expect(answer.status, `${event.context.id as string}: ${JSON.stringify(answer.body)}`).toBe(202)
        expect(answer.body).toMatchObject({ id: event.context.id, type: event.context.type, status: 'created' })
        sent.set(answer.body.digest as string, event)
      }
    }

    const batches: Array<[Json[], Answer]> = []
    const arrayBatch = examples.map(({ name, event }) => withId(event, `${name}#array`))
    batches.push([arrayBatch, await post(node, JSON.stringify(arrayBatch), JSON_TYPE)])
    const ceBatch = examples.map(({ name, event }) => withId(event, `${name}#ce-batch`))
    batches.push([ceBatch, await post(node, JSON.stringify(ceBatch.map(structured)), { 'content-type': 'application/cloudevents-batch+json' })])
    for (const [events, answer] of batches) {
      expect(answer.status).toBe(202)
      expect((answer.body as PublishReceipt[]).map((r) => r.id)).toEqual(events.map((e) => e.context.id))
      ;(answer.body as PublishReceipt[]).forEach((r, i) => sent.set(r.digest, events[i] as Json))
    }

    expect(sent.size).toBe(46 * 5)
    for (const [digest, event] of sent) {
      // the signed data bytes are the CDEvent exactly as it was sent (compact JSON, key order kept)
      expect(await dataOf(node, digest)).toBe(JSON.stringify(event))
    }
    expect((await allEvents(node.node)).map((s) => s.event.digest).sort()).toEqual([...sent.keys()].sort())
  })

  it('answers repeats, conflicts, missing tokens, oversized bodies and foreign media types as documented', async () => {
    const [node] = await startNodes(1, { topology: 'none' }) as [E2eNode]
    const event = artifactPublished({ source: 'https://ci.api.example/release' })

    const created = await post(node, JSON.stringify(event), JSON_TYPE)
    expect(created.status).toBe(202)
    expect(created.body).toMatchObject({ status: 'created', sequence: 1 })

    const repeat = await post(node, JSON.stringify(event), JSON_TYPE)
    expect(repeat.status).toBe(200)
    expect(repeat.body).toEqual({ ...created.body, status: 'existing' })

    const changed = { ...event, subject: { ...event.subject, content: { ...event.subject.content, user: 'someone-else' } } }
    const conflict = await post(node, JSON.stringify(changed), JSON_TYPE)
    expect(conflict.status).toBe(409)
    expect(conflict.body).toMatchObject({ statusCode: 409, code: 'CDG_CONFLICTING_EVENT' })

    const fresh = JSON.stringify(artifactPublished({ source: 'https://ci.api.example/release' }))
    const anonymous = await post(node, fresh, JSON_TYPE, null)
    expect(anonymous.status).toBe(401)
    expect(anonymous.body).toMatchObject({ code: 'CDG_UNAUTHORIZED' })
    expect((await post(node, fresh, JSON_TYPE, `${node.token}x`)).status).toBe(401)

    // under the HTTP body limit, over the record limit
    const bulky = artifactPublished({ source: 'https://ci.api.example/release' })
    const big = await post(node, JSON.stringify({ ...bulky, customData: { blob: 'x'.repeat(MAX_RECORD_BYTES) } }), JSON_TYPE)
    expect(big.status).toBe(413)
    expect(big.body).toMatchObject({ code: 'CDG_EVENT_TOO_LARGE' })
    // over the HTTP body limit
    const huge = await post(node, JSON.stringify({ ...bulky, customData: { blob: 'x'.repeat(node.config.api.bodyLimit) } }), JSON_TYPE)
    expect(huge.status).toBe(413)
    expect(huge.body).toMatchObject({ code: 'CDG_EVENT_TOO_LARGE' })

    const text = await post(node, fresh, { 'content-type': 'text/plain' })
    expect(text.status).toBe(415)
    expect(text.body).toMatchObject({ code: 'CDG_UNSUPPORTED_MEDIA_TYPE' })

    // only the first event was ever stored, still with its original content
    const held = await allEvents(node.node)
    expect(held.map((s) => s.event.digest)).toEqual([created.body.digest])
    expect(held[0]?.event.cdevent).toEqual(event)
  })
})
