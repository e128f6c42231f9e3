/**
 * Several API URLs (nodes of one community): the client moves to the next URL when one does not
 * answer, never after an HTTP answer, and after a timeout only with an idempotent request.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { ApiClient, ApiError, UnreachableNodeError } from '../../src/cli/client.js'
import { isCdgossipError } from '../../src/errors.js'
import { BUILT, SKIP_REASON, artifactPublished, closedPort, makeTempDir, removeDir, runCli, startNode, type CliNode } from './cli-helpers.js'

interface Stub {
  url: string
  /** `METHOD path` of every request that reached it */
  seen: string[]
}

/** A stand-in node answering every request with `status`; with `hang` it never answers, with `reset` it drops the connection. */
async function stub (options: { status?: number, hang?: boolean, reset?: boolean } = {}): Promise<Stub> {
  const seen: string[] = []
  const server = http.createServer((req, res) => {
    seen.push(`${req.method ?? ''} ${req.url ?? ''}`)
    req.resume()
    if (options.hang === true) return
    if (options.reset === true) {
      req.socket.destroy()
      return
    }
    const status = options.status ?? 200
    const body = status < 400 ? {} : { statusCode: status, code: 'CDG_STORE', error: 'Internal Server Error', message: 'store down' }
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  onTestFinished(async () => {
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

async function failure (promise: Promise<unknown>): Promise<unknown> {
  return await promise.then(() => { throw new Error('expected a failure') }, (err: unknown) => err)
}

describe('ApiClient with several URLs', () => {
  it('moves past a URL that refuses the connection, and starts at the one that answered next time', async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`
    const good = await stub()
    const api = new ApiClient({ baseUrl: [dead, good.url], token: 't' })
    expect(api.baseUrl).toBe(dead)
    await api.request('POST', '/v1/subscriptions', { json: {} })
    expect(api.baseUrl).toBe(good.url)
    await api.request('GET', '/v1/node')
    expect(good.seen).toEqual(['POST /v1/subscriptions', 'GET /v1/node'])
  })

  it('names every URL tried when none answers', async () => {
    const dead = [`http://127.0.0.1:${await closedPort()}`, `http://127.0.0.1:${await closedPort()}`]
    const err = await failure(new ApiClient({ baseUrl: dead, token: 't' }).request('GET', '/v1/node'))
    expect(err).toBeInstanceOf(UnreachableNodeError)
    expect((err as UnreachableNodeError).code).toBe('CDG_NOT_STARTED')
    expect((err as Error).message).toContain(`${dead[0]} (ECONNREFUSED), ${dead[1]} (ECONNREFUSED)`)
  })

  it('does not pass an HTTP error answer on to the next URL', async () => {
    const failing = await stub({ status: 500 })
    const good = await stub()
    const err = await failure(new ApiClient({ baseUrl: [failing.url, good.url], token: 't' }).request('GET', '/v1/node'))
    expect(err).toBeInstanceOf(ApiError)
    expect(good.seen).toEqual([])
  })

  it('after a timeout, sends on only a request that is idempotent', async () => {
    const silent = await stub({ hang: true })
    const good = await stub()
    const api = (): ApiClient => new ApiClient({ baseUrl: [silent.url, good.url], token: 't', timeoutMs: 300 })
    const err = await failure(api().request('POST', '/v1/subscriptions', { json: {} }))
    expect(isCdgossipError(err) && err.code).toBe('CDG_TIMEOUT')
    expect(good.seen).toEqual([])
    await api().request('POST', '/v1/events', { json: {}, idempotent: true })
    await api().request('GET', '/v1/node')
    expect(good.seen).toEqual(['POST /v1/events', 'GET /v1/node'])
  })

  it('after a reset connection too, sends on only a request that is idempotent', async () => {
    const dropping = await stub({ reset: true })
    const good = await stub()
    const api = (): ApiClient => new ApiClient({ baseUrl: [dropping.url, good.url], token: 't' })
    const err = await failure(api().request('POST', '/v1/subscriptions', { json: {} }))
    expect(err).toBeInstanceOf(UnreachableNodeError)
    expect(good.seen).toEqual([])
    await api().request('POST', '/v1/events', { json: {}, idempotent: true })
    expect(good.seen).toEqual(['POST /v1/events'])
    expect(dropping.seen).toEqual(['POST /v1/subscriptions', 'POST /v1/events'])
  })
})

describe.skipIf(!BUILT)(`--api-url and CDGOSSIP_API_URL with several nodes ${BUILT ? '' : SKIP_REASON}`, () => {
  let dir: string
  let node: CliNode
  let dead: string

  beforeAll(async () => {
    dir = await makeTempDir()
    node = await startNode(dir)
    dead = `http://127.0.0.1:${await closedPort()}`
  })

  afterAll(async () => {
    await node?.stop()
    await removeDir(dir)
  })

  it('a dead first --api-url: the command runs on the next', async () => {
    const status = await runCli(['status', '--api-url', dead, '--api-url', node.apiUrl, '--token', node.token])
    expect(status.code, status.stderr).toBe(0)
  })

  it('CDGOSSIP_API_URL as a comma-separated list, publishing through the live node', async () => {
    const event = artifactPublished()
    const published = await runCli(['publish', '-'], { input: JSON.stringify(event), env: { CDGOSSIP_API_URL: `${dead}, ${node.apiUrl}`, CDGOSSIP_TOKEN: node.token } })
    expect(published.code, published.stderr).toBe(0)
    expect(published.stdout).toMatch(/^published artifact\.published/)
  })

  it('no URL answers: exit 3 and every URL named', async () => {
    const other = `http://127.0.0.1:${await closedPort()}`
    const status = await runCli(['status', '--token', node.token], { env: { CDGOSSIP_API_URL: `${dead},${other}` } })
    expect(status.code).toBe(3)
    expect(status.stderr).toContain(`${dead} (ECONNREFUSED), ${other} (ECONNREFUSED)`)
  })

  it('refuses a URL without its scheme, naming it', async () => {
    const status = await runCli(['status', '--api-url', node.apiUrl, '--api-url', '127.0.0.1:7070', '--token', node.token])
    expect(status.code).toBe(2)
    expect(status.stderr).toContain('did you mean http://127.0.0.1:7070?')
  })
})
