/**
 * Progress for long operations: drawn on a terminal's stderr only (never stdout, never when
 * piped), with count, rate and ETA; and bulk import in chunks the API accepts.
 */
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ApiClient, IMPORT_CHUNK_BYTES, IMPORT_CHUNK_ITEMS, importRecords } from '../../src/cli/client.js'
import { PROGRESS_INTERVAL_MS, Progress, formatProgress } from '../../src/cli/progress.js'
import type { ProgressStream } from '../../src/cli/progress.js'
import { BIN, BUILT, REPO_ROOT, SKIP_REASON, artifactPublished, cleanEnv, lines, makeTempDir, removeDir, startNode } from './cli-helpers.js'
import type { CliNode } from './cli-helpers.js'

/** A terminal-like sink: what was written, and a clock the test moves. */
function terminal (isTTY = true, columns?: number): { stream: ProgressStream, written: () => string, clock: { now: number } } {
  let written = ''
  const stream: ProgressStream = { isTTY, columns, write: (chunk: string) => { written += chunk; return true } }
  return { stream, written: () => written, clock: { now: 1_000_000 } }
}

describe('formatProgress', () => {
  it('count, percentage, rate and ETA when the total is known', () => {
    expect(formatProgress({ label: 'imported', done: 1200, total: 5000, elapsedMs: 1500 })).toBe('imported 1,200 / 5,000 (24%)  800/s  ETA 0:05')
    expect(formatProgress({ label: 'imported', done: 10, total: 100_000, elapsedMs: 10_000 })).toBe('imported 10 / 100,000 (0%)  1/s  ETA 27:46:30')
    expect(formatProgress({ label: 'imported', done: 5000, total: 5000, elapsedMs: 2000 })).toBe('imported 5,000 / 5,000 (100%)  2,500/s')
    expect(formatProgress({ label: 'imported', done: 0, total: 0, elapsedMs: 0 })).toBe('imported 0 / 0 (100%)')
  })

  it('count and rate only when the total is unknown', () => {
    expect(formatProgress({ label: 'exported', done: 3000, elapsedMs: 2000 })).toBe('exported 3,000  1,500/s')
    expect(formatProgress({ label: 'exported', done: 0, elapsedMs: 0 })).toBe('exported 0')
  })
})

describe('Progress', () => {
  it('draws on a TTY at most once per interval, then a final line and a newline', () => {
    const t = terminal()
    const p = new Progress({ stream: t.stream, now: () => t.clock.now }, { label: 'imported', total: 1000 })
    expect(p.enabled).toBe(true)
    p.add(100)
    expect(t.written()).toBe('\r\x1b[2Kimported 100 / 1,000 (10%)')
    t.clock.now += PROGRESS_INTERVAL_MS - 1
    p.add(100)
    // too soon: nothing new
    expect(t.written()).toBe('\r\x1b[2Kimported 100 / 1,000 (10%)')
    t.clock.now += 1
    p.add(300)
    expect(t.written().split('\r\x1b[2K')).toHaveLength(3)
    expect(t.written()).toMatch(/imported 500 \/ 1,000 \(50%\) {2}2,000\/s {2}ETA 0:00$/)
    t.clock.now += 1000
    p.add(500)
    p.end()
    expect(t.written().endsWith('\r\x1b[2Kimported 1,000 / 1,000 (100%)  800/s\n')).toBe(true)
    const length = t.written().length
    p.end()
    p.add(1)
    expect(t.written().length).toBe(length)
  })

  it('writes nothing at all when the stream is not a terminal', () => {
    const t = terminal(false)
    const p = new Progress({ stream: t.stream, now: () => t.clock.now }, { label: 'exported' })
    expect(p.enabled).toBe(false)
    p.add(10)
    t.clock.now += 10_000
    p.add(10)
    p.end()
    expect(t.written()).toBe('')
  })

  it('a total learned later; lines kept inside the terminal width', () => {
    const t = terminal(true, 20)
    const p = new Progress({ stream: t.stream, now: () => t.clock.now }, { label: 'exported' })
    p.setTotal(2_000_000)
    t.clock.now += 1000
    p.add(1000)
    const drawn = t.written().replace('\r\x1b[2K', '')
    expect(drawn).toBe('exported 1,000 / 2,')
    expect(drawn.length).toBe(19)
  })
})

/** An HTTP peer that answers /v1/records like the node, recording each request's size. */
async function recordsServer (bodyLimit: number): Promise<{ url: string, requests: Array<{ items: number, bytes: number, status: number }> }> {
  const requests: Array<{ items: number, bytes: number, status: number }> = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      if (body.byteLength > bodyLimit) {
        requests.push({ items: -1, bytes: body.byteLength, status: 413 })
        res.writeHead(413, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ statusCode: 413, code: 'CDG_EVENT_TOO_LARGE', error: 'Payload Too Large', message: 'body too large' }))
        return
      }
      const items = JSON.parse(body.toString('utf8')) as Array<{ bad?: boolean, dup?: boolean }>
      requests.push({ items: items.length, bytes: body.byteLength, status: 200 })
      const refused = items.flatMap((item, index) => item.bad === true ? [{ index, code: 'CDG_BAD_SIGNATURE', message: 'forged' }] : [])
      const duplicates = items.filter((i) => i.dup === true).length
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ stored: items.length - refused.length - duplicates, duplicates, refused }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onTestFinished(async () => { await new Promise<void>((resolve) => server.close(() => { resolve() })) })
  const { port } = server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}`, requests }
}

describe('importRecords (bulk import in chunks)', () => {
  it('at most IMPORT_CHUNK_ITEMS records and IMPORT_CHUNK_BYTES per request; results added up with input positions', async () => {
    const server = await recordsServer(1024 * 1024)
    const api = new ApiClient({ baseUrl: server.url, token: 't'.repeat(32) })
    const records = Array.from({ length: 1234 }, (_, i) => ({ n: i, pad: 'x'.repeat(200), ...(i % 400 === 7 ? { bad: true } : {}), ...(i % 100 === 3 ? { dup: true } : {}) }))
    const seen: number[] = []
    const result = await importRecords(api, records, { onProgress: (done) => seen.push(done) })
    expect(server.requests.map((r) => r.items)).toEqual([IMPORT_CHUNK_ITEMS, IMPORT_CHUNK_ITEMS, 234])
    expect(seen).toEqual([500, 1000, 1234])
    expect(result.refused.map((r) => r.index)).toEqual([7, 407, 807, 1207])
    expect(result.refused.every((r) => r.code === 'CDG_BAD_SIGNATURE')).toBe(true)
    expect(result.duplicates).toBe(13)
    expect(result.stored).toBe(1234 - 4 - 13)

    // big records: the byte budget closes a chunk before the item count does
    const big = Array.from({ length: 20 }, (_, i) => ({ n: i, pad: 'y'.repeat(100 * 1024) }))
    server.requests.length = 0
    const bigResult = await importRecords(api, big)
    expect(bigResult.stored).toBe(20)
    expect(server.requests.every((r) => r.bytes <= IMPORT_CHUNK_BYTES)).toBe(true)
    expect(server.requests.length).toBeGreaterThan(2)
  })

  it('a 413 splits the chunk; a single record still too large is refused, not fatal; non-objects are refused locally', async () => {
    const server = await recordsServer(4 * 1024)
    const api = new ApiClient({ baseUrl: server.url, token: 't'.repeat(32) })
    const records: unknown[] = Array.from({ length: 10 }, (_, i) => ({ n: i, pad: 'z'.repeat(1000) }))
    records[4] = { n: 4, pad: 'z'.repeat(10_000) }
    records[6] = 'a string'
    records[8] = [1, 2]
    const result = await importRecords(api, records)
    expect(result.stored).toBe(7)
    expect(result.refused).toEqual([
      { index: 4, code: 'CDG_EVENT_TOO_LARGE', message: 'body too large' },
      { index: 6, code: 'CDG_INVALID_REQUEST', message: expect.stringContaining('not a JSON object') },
      { index: 8, code: 'CDG_INVALID_REQUEST', message: expect.stringContaining('not a JSON object') }
    ])
    expect(server.requests.filter((r) => r.status === 200).every((r) => r.bytes <= 4 * 1024)).toBe(true)
  })

  it('other API errors end the import with that error', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ statusCode: 401, code: 'CDG_UNAUTHORIZED', error: 'Unauthorized', message: 'bad token' }))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    onTestFinished(async () => { await new Promise<void>((resolve) => server.close(() => { resolve() })) })
    const api = new ApiClient({ baseUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}`, token: 't'.repeat(32) })
    await expect(importRecords(api, [{ a: 1 }])).rejects.toMatchObject({ code: 'CDG_UNAUTHORIZED', statusCode: 401 })
  })
})

const HAS_SCRIPT = spawnSync('script', ['--version']).status === 0
const TTY_TITLE = 'export and import progress on a real terminal (util-linux script)'

/** Runs a shell command line with a pseudo-terminal as its terminal; returns what the terminal showed. */
async function onTerminal (command: string): Promise<{ code: number | null, screen: string }> {
  const child = spawn('script', ['-qefc', command, '/dev/null'], { cwd: REPO_ROOT, env: cleanEnv({ TERM: 'dumb' }), stdio: ['ignore', 'pipe', 'pipe'] })
  let screen = ''
  child.stdout.on('data', (c: Buffer) => { screen += c.toString('utf8') })
  child.stderr.on('data', (c: Buffer) => { screen += c.toString('utf8') })
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => { resolve(c) }))
  return { code, screen }
}

describe.skipIf(!BUILT || !HAS_SCRIPT)(BUILT && HAS_SCRIPT ? TTY_TITLE : `${TTY_TITLE} ${BUILT ? '(skipped: no `script` command)' : SKIP_REASON}`, () => {
  it('a terminal sees counts on stderr; the redirected stdout stays pure data', async () => {
    const dir = await makeTempDir('cdgossip-cli-tty-')
    let node: CliNode | undefined
    // one callback: stop, then remove, whatever order vitest runs hooks in
    onTestFinished(async () => {
      await node?.stop()
      await removeDir(dir)
    })
    node = await startNode(path.join(dir, 'node'))
    const events = Array.from({ length: 30 }, () => artifactPublished())
    await node.api().request('POST', '/v1/events', { json: events })

    const file = path.join(dir, 'out.jsonl')
    const exported = await onTerminal(`${process.execPath} ${BIN} export --data-dir ${node.dataDir} > ${file}`)
    expect(exported.code).toBe(0)
    expect(exported.screen).toContain('exported 30 / 30 (100%)')
    const data = lines(await fs.readFile(file, 'utf8'))
    expect(data).toHaveLength(30)
    for (const line of data) expect(JSON.parse(line)).toMatchObject({ specversion: '1.0' })

    const summary = path.join(dir, 'summary.txt')
    const imported = await onTerminal(`${process.execPath} ${BIN} import --data-dir ${node.dataDir} ${file} > ${summary}`)
    expect(imported.code).toBe(0)
    expect(imported.screen).toContain('imported 30 / 30 (100%)')
    expect(await fs.readFile(summary, 'utf8')).toBe('stored 0, already held 30, refused 0\n')

    // a filtered export has no known total: count and rate only
    const filtered = await onTerminal(`${process.execPath} ${BIN} export --data-dir ${node.dataDir} --type artifact.published > ${file}`)
    expect(filtered.screen).toMatch(/exported 30(?! \/)/)
  })
})
