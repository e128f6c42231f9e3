import type { HttpClient } from './http-load.js'
import type { Payload } from './payloads.js'
import type { JetStreamPublisher } from './nats.js'
import type { AmqpPublisher } from './rabbitmq.js'

/**
 * What a load loop publishes through: cdgossip's REST API, the RabbitMQ or the JetStream
 * publisher. Each publish resolves when the system accepted the event (HTTP 202; broker confirm;
 * stream ack) and returns the key its subscribers will report (cdgossip: the record digest;
 * RabbitMQ: the message id; JetStream: the stream sequence).
 */
export interface PublishTarget {
  readonly system: 'cdgossip' | 'rabbitmq' | 'nats'
  publish(payload: Payload): Promise<string>
  publishBatch(body: Buffer, items: Payload[]): Promise<string[]>
}

const DIGEST = /"digest":"([0-9a-f]{64})"/g

export class CdgossipTarget implements PublishTarget {
  readonly system = 'cdgossip'
  constructor (private readonly client: HttpClient) {}

  async publish (payload: Payload): Promise<string> {
    const res = await this.client.request('POST', '/v1/events', payload.body)
    if (res.status !== 202) throw new Error(`POST /v1/events: HTTP ${res.status} ${res.text.slice(0, 300)}`)
    const digest = /"digest":"([0-9a-f]{64})"/.exec(res.text)?.[1]
    if (digest === undefined) throw new Error(`POST /v1/events: no digest in ${res.text.slice(0, 300)}`)
    return digest
  }

  async publishBatch (body: Buffer, items: Payload[]): Promise<string[]> {
    const res = await this.client.request('POST', '/v1/events', body)
    if (res.status !== 202) throw new Error(`POST /v1/events (batch): HTTP ${res.status} ${res.text.slice(0, 300)}`)
    const digests = [...res.text.matchAll(DIGEST)].map(m => m[1] as string)
    if (digests.length !== items.length) throw new Error(`batch of ${items.length} answered ${digests.length} receipts`)
    return digests
  }
}

export class RabbitTarget implements PublishTarget {
  readonly system = 'rabbitmq'
  constructor (private readonly publisher: AmqpPublisher) {}

  async publish (payload: Payload): Promise<string> {
    await this.publisher.publish(payload.eventClass, payload.body, payload.id)
    return payload.id
  }

  async publishBatch (_body: Buffer, items: Payload[]): Promise<string[]> {
    await this.publisher.publishBatch(items.map(p => ({ routingKey: p.eventClass, body: p.body, messageId: p.id })))
    return items.map(p => p.id)
  }
}

export class NatsTarget implements PublishTarget {
  readonly system = 'nats'
  constructor (private readonly publisher: JetStreamPublisher) {}

  async publish (payload: Payload): Promise<string> {
    return await this.publisher.publish(payload.eventClass, payload.body)
  }

  async publishBatch (_body: Buffer, items: Payload[]): Promise<string[]> {
    return await this.publisher.publishBatch(items)
  }
}
