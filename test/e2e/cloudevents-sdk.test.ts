/**
 * Interoperability with the CloudEvents JavaScript SDK (`cloudevents`), the most used JS client:
 * a producer that builds a CloudEvent from a CDEvent with the SDK and sends it with the SDK's
 * HTTP binding must get it accepted. The SDK writes `time` at millisecond precision
 * (`Date#toISOString`), while most official examples carry microseconds.
 */
import { CloudEvent, HTTP } from 'cloudevents'
import { describe, expect, it } from 'vitest'
import { loadExamples, SKIP_REASON, SPEC_AVAILABLE } from '../events/cdevents-spec.js'
import { pipelineRunFinished, startNodes } from '../helpers/nodes.js'
import type { E2eNode } from '../helpers/nodes.js'

type Json = Record<string, any>

/** Every example shares one (source, id): each send gets its own id, all else unchanged. */
function withId (event: Json, id: string): Json {
  return { ...event, context: { ...event.context, id } }
}

/** The CloudEvent a producer builds with the SDK, per the CDEvents CloudEvents binding. */
function sdkEvent (cdevent: Json): CloudEvent<Json> {
  return new CloudEvent<Json>({
    id: cdevent.context.id,
    source: cdevent.context.source,
    type: cdevent.context.type,
    subject: cdevent.subject.id,
    time: cdevent.context.timestamp,
    datacontenttype: 'application/json',
    data: cdevent
  })
}

interface Answer { status: number, body: any }

async function send (node: E2eNode, message: { headers: Record<string, unknown>, body: unknown }): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${node.token}` }
  for (const [name, value] of Object.entries(message.headers)) headers[name] = String(value)
  const res = await fetch(`${node.node.apiUrl}/v1/events`, { method: 'POST', headers, body: message.body as string })
  const text = await res.text()
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) }
}

/** The stored, signed record: its attributes and its data (the CDEvent) as text. */
async function recordOf (node: E2eNode, digest: string): Promise<{ record: Json, data: string }> {
  const res = await fetch(`${node.node.apiUrl}/v1/events/${digest}`, { headers: { authorization: `Bearer ${node.token}` } })
  expect(res.status).toBe(200)
  const record = await res.json() as Json
  return { record, data: Buffer.from(record.data_base64 as string, 'base64').toString('utf8') }
}

describe('the CloudEvents JavaScript SDK as a producer', () => {
  it.skipIf(!SPEC_AVAILABLE)(`gets every official example accepted in binary and structured mode (${SPEC_AVAILABLE ? 'spec files present' : SKIP_REASON})`, async () => {
    const [node] = await startNodes(1, { topology: 'none' }) as [E2eNode]
    const examples = loadExamples()
    expect(examples).toHaveLength(46)
    // most examples carry microseconds, which the SDK cuts to milliseconds
    const shortened = examples.filter(({ event }) => HTTP.binary(sdkEvent(event)).headers['ce-time'] !== (event.context as Json).timestamp)
    expect(shortened.length).toBeGreaterThan(0)

    let accepted = 0
    for (const { name, event } of examples) {
      for (const [mode, encode] of [['binary', HTTP.binary], ['structured', HTTP.structured]] as const) {
        const sent = withId(event, `${name}#sdk-${mode}`)
        const answer = await send(node, encode(sdkEvent(sent)))
        expect(answer.status, `${name} (${mode}): ${JSON.stringify(answer.body)}`).toBe(202)
        expect(answer.body).toMatchObject({ id: sent.context.id, type: sent.context.type, status: 'created' })

        const { record, data } = await recordOf(node, answer.body.digest as string)
        // the stored CDEvent is the example, byte for byte as JSON.stringify writes it
        expect(JSON.parse(data)).toEqual(sent)
        expect(data).toBe(JSON.stringify(sent))
        // what is signed is the CDEvent's own timestamp, not the SDK's shorter time
        expect(record.time).toBe(sent.context.timestamp)
        accepted++
      }
    }
    expect(accepted).toBe(92)
  })

  it('still refuses a time that is not the timestamp truncated, with the mismatch named', async () => {
    const [node] = await startNodes(1, { topology: 'none' }) as [E2eNode]
    const cdevent = pipelineRunFinished({ source: 'https://ci.example.org/sdk', timestamp: '2023-03-20T14:27:05.315384Z' })
    for (const time of ['2023-03-20T14:27:05.316Z', '2023-03-20T14:27:06Z']) {
      const ce = new CloudEvent<Json>({ id: cdevent.context.id, source: cdevent.context.source, type: cdevent.context.type, time, data: cdevent })
      for (const message of [HTTP.binary(ce), HTTP.structured(ce)]) {
        const answer = await send(node, message)
        expect(answer.status, time).toBe(422)
        expect(answer.body).toMatchObject({ code: 'CDG_INVALID_CLOUDEVENT', mismatches: [{ attribute: 'time', cdevent: cdevent.context.timestamp }] })
      }
    }
    // the same event with the SDK's own rendering of the timestamp goes in
    const ce = new CloudEvent<Json>({ id: cdevent.context.id, source: cdevent.context.source, type: cdevent.context.type, time: cdevent.context.timestamp, data: cdevent })
    const message = HTTP.binary(ce)
    expect(message.headers['ce-time']).toBe('2023-03-20T14:27:05.315Z')
    expect((await send(node, message)).status).toBe(202)
  })
})
