import { Writable } from 'node:stream'
import { describe, expect, it, onTestFinished } from 'vitest'
import { pino } from 'pino'
import type { Level } from 'pino'
import { buildApi } from '../../src/api/index.js'
import { FakeNode, TOKEN, cdevent } from './fake-node.js'
import { waitFor } from '../helpers/wait-for.js'

/**
 * An API whose log lines (parsed) land in `lines`. The onResponse hook runs after inject() has its
 * response, so `settled(n)` waits until the hook ran for n requests.
 */
async function loggedApi (level: Level): Promise<{ app: Awaited<ReturnType<typeof buildApi>>, lines: Array<Record<string, unknown>>, settled: (n: number) => Promise<void> }> {
  const lines: Array<Record<string, unknown>> = []
  const sink = new Writable({
    write (chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>)
      done()
    }
  })
  let responses = 0
  const app = await buildApi({
    node: new FakeNode(),
    log: pino({ level }, sink).child({ component: 'api' }),
    observeRequest: () => { responses++ }
  }, { token: TOKEN, version: 'test' })
  onTestFinished(async () => { await app.close() })
  const settled = async (n: number): Promise<void> => { await waitFor(() => responses >= n, { message: `the response hook to run for ${n} requests` }) }
  return { app, lines, settled }
}

const auth = { authorization: `Bearer ${TOKEN}` }

describe('the API request log', () => {
  it('at the default level (info) writes nothing for a request that succeeds and one line for a refused one', async () => {
    const { app, lines, settled } = await loggedApi('info')
    for (let i = 0; i < 3; i++) {
      expect((await app.inject({ method: 'POST', url: '/v1/events', headers: auth, payload: cdevent(`run-${i}`) })).statusCode).toBe(202)
    }
    expect((await app.inject({ url: '/v1/node', headers: auth })).statusCode).toBe(200)
    await settled(4)
    expect(lines).toEqual([])

    expect((await app.inject({ url: '/v1/node', headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(401)
    await settled(5)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ msg: 'request refused', code: 'CDG_UNAUTHORIZED', component: 'api' })
  })

  it('at debug writes one line per completed request: method, URL with the token redacted, status, time', async () => {
    const { app, lines, settled } = await loggedApi('debug')
    expect((await app.inject({ url: '/v1/node', headers: auth })).statusCode).toBe(200)
    // (the web page's routes log at warn only; any URL's token is redacted)
    expect((await app.inject({ url: `/v1/node?token=${TOKEN}`, headers: auth })).statusCode).toBe(200)
    await settled(2)
    const completed = lines.filter((l) => l.msg === 'request completed')
    expect(completed).toHaveLength(2)
    expect(completed[0]).toMatchObject({ level: 20, component: 'api', req: { method: 'GET', url: '/v1/node' }, res: { statusCode: 200 } })
    expect(typeof completed[0]?.responseTime).toBe('number')
    expect(completed[1]).toMatchObject({ req: { url: '/v1/node?token=[redacted]' }, res: { statusCode: 200 } })
    expect(JSON.stringify(lines)).not.toContain(TOKEN)
  })
})
