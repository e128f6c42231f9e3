import { Workload, type WorkloadInit } from './workload.js'

/** One event as both systems receive it: the same JSON bytes. */
export interface Payload {
  /** the bare CDEvent JSON (POST /v1/events body; the AMQP message body) */
  body: Buffer
  /** CDEvents context.id: the AMQP message id */
  id: string
  /** event class, e.g. `pipelinerun.finished`: the AMQP routing key */
  eventClass: string
}

/** Turns the workload into payloads on demand, so no run holds more than it sends. */
export class Payloads {
  private readonly workload: Workload

  constructor (init: WorkloadInit) {
    this.workload = new Workload(init)
  }

  get produced (): number {
    return this.workload.produced
  }

  next (): Payload {
    const event = this.workload.next()
    return { body: Buffer.from(JSON.stringify(event)), id: event.context.id, eventClass: classOf(event.context.type) }
  }

  /** `n` payloads and their JSON array body (a batch request) */
  batch (n: number): { body: Buffer, items: Payload[] } {
    const items = Array.from({ length: n }, () => this.next())
    const body = Buffer.concat([Buffer.from('['), ...items.flatMap((p, i) => i === 0 ? [p.body] : [Buffer.from(','), p.body]), Buffer.from(']')])
    return { body, items }
  }

  warmup (): Payload[] {
    return this.workload.oneOfEach().map(event => ({ body: Buffer.from(JSON.stringify(event)), id: event.context.id, eventClass: classOf(event.context.type) }))
  }
}

/** `dev.cdevents.pipelinerun.finished.0.3.0` → `pipelinerun.finished` */
export function classOf (type: string): string {
  const parts = type.split('.')
  return `${parts[2] ?? ''}.${parts[3] ?? ''}`
}

/** A run-unique id prefix: repeated runs and parts never collide on (source, id). */
export function runPrefix (part: string): string {
  return `${part}-${Date.now().toString(36)}`
}
