import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { AckPolicy, DeliverPolicy, StorageType, connect, type ConsumerMessages, type JetStreamClient, type NatsConnection } from 'nats'
import { firstExecutable, freePort } from './rabbitmq.js'
import { onCleanup, trackChild } from './resources.js'
import { memoryOf, sleep } from './stats.js'

/**
 * The second baseline: NATS JetStream on 127.0.0.1, used the way a durable event bus is: one
 * stream with file storage holding every class (`cdevents.<class>`), publishes that resolve on
 * the stream's ack (the message is stored), one durable pull consumer per subscribing community
 * with explicit acks. The bench starts a private nats-server (temp store dir, random port) and
 * stops it at the end.
 */

export const NATS_INSTALL_HINT = 'nats-server is not installed; the NATS JetStream baseline is skipped. Install it with: sudo apt-get update && sudo apt-get install -y nats-server (Debian/Ubuntu), or set NATS_SERVER to a nats-server binary.'

const SERVER_CANDIDATES = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server']
const START_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 15_000
const OUTPUT_TAIL = 4000
export const NATS_STREAM = 'CDEVENTS'
const SUBJECT_PREFIX = 'cdevents.'

/** The nats-server binary (NATS_SERVER overrides the usual places), or undefined when absent. */
export async function findNatsServer (env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  return await firstExecutable(env.NATS_SERVER === undefined ? SERVER_CANDIDATES : [env.NATS_SERVER])
}

/** Version of the last server started (for the report). */
export const natsInfo: { version?: string } = {}

export class NatsServer {
  private stopped = false

  private constructor (readonly url: string, private readonly child: ChildProcess, private readonly unregister: () => void) {}

  /** Starts a private server with JetStream (file storage under `baseDir`); resolves once a client connects. */
  static async start (baseDir: string, binary: string): Promise<NatsServer> {
    await mkdir(baseDir, { recursive: true })
    const port = await freePort()
    const child = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', path.join(baseDir, 'jetstream'), '-n', `cdgossip-bench-${process.pid}`], { stdio: ['ignore', 'pipe', 'pipe'] })
    trackChild(child)
    let output = ''
    const keep = (chunk: Buffer): void => { output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL) }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    let server: NatsServer | undefined
    const unregister = onCleanup('nats-server', async () => { if (server !== undefined) await server.stop(); else await stopChild(child) })
    server = new NatsServer(`127.0.0.1:${port}`, child, unregister)
    const deadline = performance.now() + START_TIMEOUT_MS
    for (;;) {
      if (child.exitCode !== null) {
        unregister()
        throw new Error(`nats-server exited with code ${child.exitCode}:\n${output}`)
      }
      try {
        const nc = await connect({ servers: server.url, reconnect: false })
        natsInfo.version = nc.info?.version
        await nc.close()
        return server
      } catch (err) {
        if (performance.now() > deadline) {
          await server.stop()
          throw new Error(`nats-server did not accept connections within ${START_TIMEOUT_MS} ms (${(err as Error).message}):\n${output}`)
        }
        await sleep(100)
      }
    }
  }

  get pid (): number {
    return this.child.pid ?? -1
  }

  async memory (): Promise<{ peakRssMiB: number, rssMiB: number } | undefined> {
    return await memoryOf(this.pid)
  }

  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.unregister()
    await stopChild(this.child)
  }
}

async function stopChild (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
  child.kill('SIGTERM')
  const timer = setTimeout(() => { child.kill('SIGKILL') }, STOP_TIMEOUT_MS)
  await exited
  clearTimeout(timer)
}

/** The stream and one durable consumer per queue name, created empty. */
export async function declareStream (url: string, consumers: string[]): Promise<void> {
  const nc = await connect({ servers: url })
  try {
    const jsm = await nc.jetstreamManager()
    await jsm.streams.add({ name: NATS_STREAM, subjects: [`${SUBJECT_PREFIX}>`], storage: StorageType.File })
    for (const name of consumers) {
      await jsm.consumers.add(NATS_STREAM, { durable_name: name, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All })
    }
  } finally {
    await nc.close()
  }
}

export async function deleteStream (url: string): Promise<void> {
  const nc = await connect({ servers: url })
  try {
    await (await nc.jetstreamManager()).streams.delete(NATS_STREAM).catch(() => false)
  } finally {
    await nc.close()
  }
}

/** Publisher: each publish resolves on the stream's ack and returns the stream sequence. */
export class JetStreamPublisher {
  private constructor (private readonly nc: NatsConnection, private readonly js: JetStreamClient) {}

  static async open (url: string): Promise<JetStreamPublisher> {
    const nc = await connect({ servers: url })
    return new JetStreamPublisher(nc, nc.jetstream())
  }

  async publish (eventClass: string, body: Uint8Array): Promise<string> {
    const ack = await this.js.publish(SUBJECT_PREFIX + eventClass, body)
    return String(ack.seq)
  }

  /** A batch: publish all, then wait for every ack (as the RabbitMQ publisher does with confirms). */
  async publishBatch (items: Array<{ eventClass: string, body: Uint8Array }>): Promise<string[]> {
    return await Promise.all(items.map(async i => await this.publish(i.eventClass, i.body)))
  }

  async close (): Promise<void> {
    await this.nc.close().catch(() => {})
  }
}

/** A durable pull consumer on its own connection (one per subscribing community); acks each message. */
export class JetStreamConsumer {
  received = 0
  private messages: ConsumerMessages | undefined
  private loop: Promise<void> | undefined

  private constructor (private readonly nc: NatsConnection, readonly durable: string, private readonly maxMessages: number) {}

  static async open (url: string, durable: string, maxMessages: number): Promise<JetStreamConsumer> {
    return new JetStreamConsumer(await connect({ servers: url }), durable, maxMessages)
  }

  /** Starts consuming; `onMessage` gets the stream sequence (the publisher's key). */
  async consume (onMessage: (key: string, at: number) => void): Promise<void> {
    const consumer = await this.nc.jetstream().consumers.get(NATS_STREAM, this.durable)
    const messages = await consumer.consume({ max_messages: this.maxMessages })
    this.messages = messages
    this.loop = (async () => {
      for await (const m of messages) {
        const at = performance.now()
        this.received++
        onMessage(String(m.seq), at)
        m.ack()
      }
    })()
  }

  async close (): Promise<void> {
    await this.messages?.close()
    await this.loop?.catch(() => {})
    await this.nc.close().catch(() => {})
  }
}
