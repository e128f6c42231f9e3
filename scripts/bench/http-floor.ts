import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import { DEFAULT_BODY_LIMIT } from '../../src/api/build-api.js'
import { closedLoop, HttpClient } from './http-load.js'
import { Payloads, runPrefix } from './payloads.js'
import { cpuOf } from './proc-cpu.js'
import { exitWith, integerOption, scriptArgs } from './script-args.js'

/**
 * What HTTP alone costs a single publish: the bench's client against a bare Fastify server, set up
 * as the node's REST API is (no request logging, the same body limit, a bearer token checked in an
 * `onRequest` hook, JSON parsed), whose POST /v1/events answers 202 with a receipt of the node's
 * size and does nothing else. Reports requests/s and the CPU per request of the server process and
 * of this one (the client), over `--seconds` with 32 requests in flight, as the publish part sends
 * single events. Comparing with the publish part's "CPU per accepted event" tells the node's work
 * per event from the HTTP it cannot avoid.
 */

const USAGE = `usage: node dist/scripts/bench/http-floor.js [--seconds S] [--in-flight N]
  --seconds S     length of the measurement (default 8, after 2,000 warm-up requests)
  --in-flight N   requests outstanding (default 32, as the publish part)`

const TOKEN = 'http-floor-token'
const SERVE = '--serve'

async function serve (): Promise<void> {
  const app = Fastify({ disableRequestLogging: true, bodyLimit: DEFAULT_BODY_LIMIT })
  app.addHook('onRequest', async (request) => {
    if (request.headers.authorization !== `Bearer ${TOKEN}`) throw Object.assign(new Error('unauthorized'), { statusCode: 401 })
  })
  let stored = 0
  app.post('/v1/events', async (request, reply) => {
    if (typeof request.body !== 'object' || request.body === null) throw Object.assign(new Error('not a JSON object'), { statusCode: 400 })
    stored++
    // answered as the node's route answers: the code set, the receipt returned
    reply.code(202)
    return { status: 'stored', digest: 'ab'.repeat(32), cursor: stored.toString(36).padStart(11, '0'), class: 'pipelinerun.finished', sequence: stored, gossiped: true }
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  process.stdout.write(`PORT ${address.port}\n`)
}

async function measure (): Promise<void> {
  const values = scriptArgs(USAGE, { seconds: { type: 'string' }, 'in-flight': { type: 'string' } })
  const seconds = integerOption(values.seconds, '--seconds', 8)
  const inFlight = integerOption(values['in-flight'], '--in-flight', 32)
  const server = spawn(process.execPath, [fileURLToPath(import.meta.url), SERVE], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    const port = await new Promise<string>((resolve, reject) => {
      let out = ''
      server.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8')
        const found = /PORT (\d+)\n/.exec(out)?.[1]
        if (found !== undefined) resolve(found)
      })
      server.once('exit', code => { reject(new Error(`the server exited (${String(code)}) before listening`)) })
    })
    const client = new HttpClient(`http://127.0.0.1:${port}`, TOKEN)
    const payloads = new Payloads({ seed: 11, idPrefix: runPrefix('http-floor') })
    const send = async (): Promise<void> => {
      const res = await client.request('POST', '/v1/events', payloads.next().body)
      if (res.status !== 202) throw new Error(`HTTP ${res.status}`)
    }
    await closedLoop({ total: 2000, inFlight, maxMs: 60_000, send })
    const pid = server.pid ?? -1
    const serverBefore = await cpuOf(pid)
    const clientBefore = process.cpuUsage()
    const started = performance.now()
    const loop = await closedLoop({ total: Number.MAX_SAFE_INTEGER, inFlight, maxMs: seconds * 1000, send })
    const ms = performance.now() - started
    const serverAfter = await cpuOf(pid)
    const clientUsed = process.cpuUsage(clientBefore)
    if (serverBefore === undefined || serverAfter === undefined) throw new Error('could not read the server\'s CPU')
    console.log(JSON.stringify({
      requests: loop.completed,
      failed: loop.failed,
      requestsPerSecond: Math.round(loop.completed / ms * 1000),
      serverCpuUsPerRequest: Math.round((serverAfter - serverBefore) * 1000 / loop.completed),
      clientCpuUsPerRequest: Math.round((clientUsed.user + clientUsed.system) / loop.completed)
    }))
  } finally {
    server.kill()
  }
}

if (process.argv.includes(SERVE)) {
  // the server runs until the measuring process kills it
  serve().catch((err: unknown) => { console.error(err); process.exit(1) })
} else {
  exitWith(measure(), USAGE)
}
