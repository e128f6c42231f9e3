import { spawn, type ChildProcess } from 'node:child_process'
import { access, mkdir, readFile, writeFile } from 'node:fs/promises'
import { constants as fsConstants } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import amqp from 'amqplib'
import type { ChannelModel, ConfirmChannel, Channel, ConsumeMessage } from 'amqplib'
import { onCleanup, trackChild, trackPid } from './resources.js'
import { memoryOf, sleep } from './stats.js'

/**
 * The baseline: a RabbitMQ broker on 127.0.0.1 used the way Eiffel's REMReM publishes: a durable
 * topic exchange, persistent messages, publisher confirms, durable consumer queues with manual
 * acks. The bench starts a private broker (its own data dir, node name, ports and epmd) and stops
 * it at the end; nothing of the system's RabbitMQ service is touched.
 */

export const INSTALL_HINT = 'RabbitMQ is not installed; the baseline is skipped. Install it with: sudo apt-get update && sudo apt-get install -y rabbitmq-server (Debian/Ubuntu), or set RABBITMQ_SERVER to a rabbitmq-server script.'

/** Broker start (Erlang boot, Mnesia init) must take less than this. */
const START_TIMEOUT_MS = 60_000
const STOP_TIMEOUT_MS = 30_000
const OUTPUT_TAIL = 4000

/** The server script without Debian's wrapper (which switches to the rabbitmq user via su). */
const SERVER_CANDIDATES = ['/usr/lib/rabbitmq/bin/rabbitmq-server', '/usr/sbin/rabbitmq-server', '/usr/local/sbin/rabbitmq-server']
const EPMD_CANDIDATES = ['/usr/bin/epmd', '/usr/lib/erlang/bin/epmd', '/usr/local/bin/epmd']

async function executable (file: string): Promise<boolean> {
  try {
    await access(file, fsConstants.X_OK)
    return true
  } catch {
    return false
  }
}

export async function firstExecutable (candidates: string[]): Promise<string | undefined> {
  for (const c of candidates) if (await executable(c)) return c
  return undefined
}

/** Where rabbitmq-server and epmd are, or undefined when RabbitMQ is not installed. */
export async function findRabbitMQ (): Promise<{ server: string, epmd: string } | undefined> {
  const server = await firstExecutable(process.env.RABBITMQ_SERVER === undefined ? SERVER_CANDIDATES : [process.env.RABBITMQ_SERVER])
  const epmd = await firstExecutable(EPMD_CANDIDATES)
  if (server === undefined || epmd === undefined) return undefined
  return { server, epmd }
}

export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      srv.close(() => { resolve(port) })
    })
  })
}

async function childrenOf (pid: number): Promise<number[]> {
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8')
    return text.trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

async function commOf (pid: number): Promise<string> {
  try {
    return (await readFile(`/proc/${pid}/comm`, 'utf8')).trim()
  } catch {
    return ''
  }
}

/** The beam.smp process under the start script (breadth-first, a few levels at most). */
async function findBeam (rootPid: number): Promise<number | undefined> {
  let level = [rootPid]
  for (let depth = 0; depth < 4 && level.length > 0; depth++) {
    const next: number[] = []
    for (const pid of level) {
      for (const child of await childrenOf(pid)) {
        if ((await commOf(child)).startsWith('beam')) return child
        next.push(child)
      }
    }
    level = next
  }
  return undefined
}

/** Version and Erlang platform of the last broker started (for the report). */
export const brokerInfo: { version?: string, platform?: string } = {}

export class RabbitBroker {
  readonly url: string
  readonly version: string
  private readonly server: ChildProcess
  private readonly epmd: ChildProcess
  private readonly beamPid: number
  private readonly untrack: () => void
  private readonly unregister: () => void
  private stopped = false

  private constructor (init: { url: string, version: string, server: ChildProcess, epmd: ChildProcess, beamPid: number, untrack: () => void, unregister: () => void }) {
    this.url = init.url
    this.version = init.version
    this.server = init.server
    this.epmd = init.epmd
    this.beamPid = init.beamPid
    this.untrack = init.untrack
    this.unregister = init.unregister
  }

  /** Start a private broker under `baseDir`; resolves once an AMQP connection succeeds. */
  static async start (baseDir: string, bins: { server: string, epmd: string }): Promise<RabbitBroker> {
    await mkdir(path.join(baseDir, 'home'), { recursive: true })
    const [amqpPort, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()]
    await writeFile(path.join(baseDir, 'enabled_plugins'), '[].\n')
    await writeFile(path.join(baseDir, 'rabbitmq.conf'), [
      `listeners.tcp.default = 127.0.0.1:${amqpPort}`,
      // the bench's queues can hold a catch-up backlog; the default 50 MB free-disk alarm is enough
      'log.console = true',
      'log.console.level = warning',
      ''
    ].join('\n'))

    let output = ''
    const keep = (chunk: Buffer): void => { output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL) }
    // our own epmd on a private port: the broker registers there and we can stop it by pid
    const epmd = spawn(bins.epmd, ['-address', '127.0.0.1', '-port', String(epmdPort)], { stdio: ['ignore', 'pipe', 'pipe'] })
    trackChild(epmd)
    epmd.stderr?.on('data', keep)
    const nodeName = `cdgossip-bench-${process.pid}@localhost`
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: path.join(baseDir, 'home'),
      ERL_EPMD_PORT: String(epmdPort),
      ERL_EPMD_ADDRESS: '127.0.0.1',
      RABBITMQ_NODENAME: nodeName,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(amqpPort),
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_MNESIA_BASE: path.join(baseDir, 'mnesia'),
      RABBITMQ_LOG_BASE: path.join(baseDir, 'log'),
      RABBITMQ_ENABLED_PLUGINS_FILE: path.join(baseDir, 'enabled_plugins'),
      RABBITMQ_CONFIG_FILE: path.join(baseDir, 'rabbitmq'),
      RABBITMQ_ADVANCED_CONFIG_FILE: path.join(baseDir, 'advanced.config'),
      RABBITMQ_CONF_ENV_FILE: path.join(baseDir, 'rabbitmq-env.conf'),
      RABBITMQ_PID_FILE: path.join(baseDir, 'rabbitmq.pid')
    }
    const server = spawn(bins.server, [], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    trackChild(server)
    server.stdout?.on('data', keep)
    server.stderr?.on('data', keep)
    const url = `amqp://guest:guest@127.0.0.1:${amqpPort}`

    let beamPid: number | undefined
    let untrack: () => void = () => {}
    const stopEarly = async (): Promise<void> => {
      server.kill('SIGTERM')
      await waitExit(server, STOP_TIMEOUT_MS)
      if (beamPid !== undefined) killPid(beamPid)
      epmd.kill('SIGTERM')
      await waitExit(epmd, 5000)
      untrack()
    }
    const unregisterEarly = onCleanup('rabbitmq (starting)', stopEarly)
    const deadline = performance.now() + START_TIMEOUT_MS
    let version = ''
    try {
      for (let attempt = 0; attempt < 600; attempt++) {
        if (server.exitCode !== null) throw new Error(`rabbitmq-server exited with code ${server.exitCode}:\n${output}`)
        if (performance.now() > deadline) throw new Error(`RabbitMQ did not accept connections within ${START_TIMEOUT_MS} ms:\n${output}`)
        if (beamPid === undefined) {
          beamPid = await findBeam(server.pid ?? -1)
          if (beamPid !== undefined) untrack = trackPid(beamPid)
        }
        try {
          const conn = await amqp.connect(url)
          const props = conn.connection.serverProperties
          version = String(props.version ?? '')
          brokerInfo.version = version
          if (typeof props.platform === 'string') brokerInfo.platform = props.platform
          await conn.close()
          break
        } catch {
          await sleep(250)
        }
      }
      if (beamPid === undefined) {
        beamPid = await findBeam(server.pid ?? -1)
        if (beamPid === undefined) throw new Error('RabbitMQ started but its beam.smp process was not found')
        untrack = trackPid(beamPid)
      }
    } catch (err) {
      unregisterEarly()
      await stopEarly()
      throw err
    }
    unregisterEarly()
    let broker: RabbitBroker | undefined
    const unregister = onCleanup('rabbitmq', async () => { await broker?.stop() })
    broker = new RabbitBroker({ url, version, server, epmd, beamPid, untrack, unregister })
    return broker
  }

  async memory (): Promise<{ peakRssMiB: number, rssMiB: number } | undefined> {
    return await memoryOf(this.beamPid)
  }

  get pid (): number {
    return this.beamPid
  }

  /** Graceful stop through the start script's SIGTERM handler; SIGKILL by pid if it hangs. */
  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.unregister()
    if (this.server.exitCode === null && this.server.signalCode === null) {
      this.server.kill('SIGTERM')
      if (!await waitExit(this.server, STOP_TIMEOUT_MS)) this.server.kill('SIGKILL')
    }
    // the script waits for the broker, but make sure beam is gone before dropping its pid
    for (let i = 0; i < 50 && await commOf(this.beamPid) !== ''; i++) await sleep(100)
    if (await commOf(this.beamPid) !== '') killPid(this.beamPid)
    this.untrack()
    this.epmd.kill('SIGTERM')
    await waitExit(this.epmd, 5000)
  }
}

function killPid (pid: number): void {
  try {
    process.kill(pid, 'SIGKILL')
  } catch { /* gone */ }
}

async function waitExit (child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true
  return await new Promise(resolve => {
    const timer = setTimeout(() => { resolve(false) }, timeoutMs)
    child.once('exit', () => { clearTimeout(timer); resolve(true) })
  })
}

// ---- AMQP clients ----------------------------------------------------------------------------

/** Publisher: one connection, one confirm channel; each publish resolves on the broker's confirm. */
export class AmqpPublisher {
  private constructor (private readonly conn: ChannelModel, private readonly channel: ConfirmChannel, readonly exchange: string) {}

  static async open (url: string, exchange: string): Promise<AmqpPublisher> {
    const conn = await amqp.connect(url)
    const channel = await conn.createConfirmChannel()
    await channel.assertExchange(exchange, 'topic', { durable: true })
    return new AmqpPublisher(conn, channel, exchange)
  }

  async publish (routingKey: string, body: Buffer, messageId: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.channel.publish(this.exchange, routingKey, body, { persistent: true, contentType: 'application/json', messageId }, (err: unknown) => {
        if (err !== null && err !== undefined) reject(err instanceof Error ? err : new Error(String(err)))
        else resolve()
      })
    })
  }

  /** A batch as REMReM's batch endpoint would: publish all, then wait for every confirm. */
  async publishBatch (items: Array<{ routingKey: string, body: Buffer, messageId: string }>): Promise<void> {
    await Promise.all(items.map(async i => { await this.publish(i.routingKey, i.body, i.messageId) }))
  }

  async close (): Promise<void> {
    await this.channel.close().catch(() => {})
    await this.conn.close().catch(() => {})
  }
}

/** Acks are sent for up to this many messages at once (multiple=true), as tuned consumers do. */
/** Consumers ack in groups of this many messages. */
export const ACK_EVERY = 32
/** Prefetch of every consumer the benches open: enough unacked messages to keep a consumer busy. */
export const CONSUMER_PREFETCH = 256

/** Consumer of one durable queue, on its own connection (one per subscribing community). */
export class AmqpConsumer {
  received = 0
  private pendingAck: ConsumeMessage | undefined
  private unacked = 0
  private flushTimer: NodeJS.Timeout | undefined
  private tag: string | undefined

  private constructor (private readonly conn: ChannelModel, private readonly channel: Channel, readonly queue: string) {}

  /** Declares the durable queue and binds it to the exchange for every routing key. */
  static async declare (url: string, exchange: string, queue: string): Promise<void> {
    const conn = await amqp.connect(url)
    const ch = await conn.createChannel()
    await ch.assertExchange(exchange, 'topic', { durable: true })
    await ch.assertQueue(queue, { durable: true })
    await ch.bindQueue(queue, exchange, '#')
    await ch.purgeQueue(queue)
    await conn.close()
  }

  static async open (url: string, queue: string, prefetch: number): Promise<AmqpConsumer> {
    const conn = await amqp.connect(url)
    const ch = await conn.createChannel()
    await ch.prefetch(prefetch)
    return new AmqpConsumer(conn, ch, queue)
  }

  async consume (onMessage: (messageId: string, at: number) => void): Promise<void> {
    const reply = await this.channel.consume(this.queue, msg => {
      if (msg === null) return
      const at = performance.now()
      this.received++
      onMessage(String(msg.properties.messageId), at)
      this.pendingAck = msg
      if (++this.unacked >= ACK_EVERY) this.flush()
      else this.flushTimer ??= setTimeout(() => { this.flush() }, 2)
    }, { noAck: false })
    this.tag = reply.consumerTag
  }

  private flush (): void {
    clearTimeout(this.flushTimer)
    this.flushTimer = undefined
    if (this.pendingAck !== undefined) this.channel.ack(this.pendingAck, true)
    this.pendingAck = undefined
    this.unacked = 0
  }

  async close (): Promise<void> {
    this.flush()
    if (this.tag !== undefined) await this.channel.cancel(this.tag).catch(() => {})
    await this.channel.close().catch(() => {})
    await this.conn.close().catch(() => {})
  }
}

/** Deletes the bench's exchange and queues (a new part starts from an empty broker). */
export async function deleteTopology (url: string, exchange: string, queues: string[]): Promise<void> {
  const conn = await amqp.connect(url)
  const ch = await conn.createChannel()
  for (const q of queues) await ch.deleteQueue(q).catch(() => {})
  await ch.deleteExchange(exchange).catch(() => {})
  await conn.close().catch(() => {})
}
