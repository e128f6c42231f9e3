/**
 * `cdgossip community …` as an operator runs it (child processes of the built CLI): a root key
 * file kept offline, edits that sign new manifest versions, a root rotation, and `publish` to a
 * stand-in for the node's route (the route itself is tested with the node).
 */
import { chmod, readFile, stat, writeFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it, onTestFinished } from 'vitest'
import { verifyManifestChain, type CommunityManifest } from '../../src/community/index.js'
import { BUILT, SKIP_REASON, closedPort, makeTempDir, removeDir, runCli } from './cli-helpers.js'

const posix = process.platform !== 'win32'

async function tempDir (): Promise<string> {
  const dir = await makeTempDir('cdgossip-community-cli-')
  onTestFinished(async () => { await removeDir(dir) })
  return dir
}

async function peerId (): Promise<string> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
}

type Shown = CommunityManifest & { rootKeys: string[] }

async function showJson (args: string[]): Promise<Shown> {
  const shown = await runCli(['community', 'show', ...args, '--json'])
  expect(shown.code, shown.stderr).toBe(0)
  return JSON.parse(shown.stdout) as Shown
}

/** A stand-in for the node's POST /v1/community/manifests: records bodies, answers `status`. */
async function manifestRoute (answer: { status: number, body: unknown }): Promise<{ url: string, bodies: unknown[] }> {
  const bodies: unknown[] = []
  const server = http.createServer((req, res) => {
    let text = ''
    req.on('data', (c: Buffer) => { text += c.toString('utf8') })
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/community/manifests') bodies.push(JSON.parse(text))
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body))
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  onTestFinished(async () => { await new Promise(resolve => server.close(resolve)) })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies }
}

describe.skipIf(!BUILT)(`cdgossip community ${BUILT ? '' : SKIP_REASON}`, () => {
  it('init writes a 0600 root key file named by its peer ID, and never overwrites one', async () => {
    const key = path.join(await tempDir(), 'onap-root.key')
    const init = await runCli(['community', 'init', '--name', 'onap', '--out', key])
    expect(init.code, init.stderr).toBe(0)
    const rootKey = /root key \(community id\): (12D3KooW\S+)/.exec(init.stdout)?.[1]
    expect(rootKey).toBeDefined()
    if (posix) expect((await stat(key)).mode & 0o777).toBe(0o600)
    expect(await showJson(['--key', key])).toMatchObject({ community: 'onap', id: rootKey, rootKey, version: 1, nodes: [], revoked: [] })

    const before = await readFile(key, 'utf8')
    const again = await runCli(['community', 'init', '--name', 'other', '--out', key])
    expect(again.code).toBe(3)
    expect(again.stderr).toContain('never overwritten')
    expect(await readFile(key, 'utf8')).toBe(before)
  })

  it('add-node, revoke and remove-node sign new versions that show lists', async () => {
    const key = path.join(await tempDir(), 'root.key')
    expect((await runCli(['community', 'init', '--name', 'onap', '--out', key])).code).toBe(0)
    const [a, b, c] = [await peerId(), await peerId(), await peerId()]
    const added = await runCli(['community', 'add-node', '--key', key, '--peer-id', a, '--source', 'https://ci.onap.org/', '--class', 'artifact.*', '--class', 'pipelinerun.finished'])
    expect(added.code, added.stderr).toBe(0)
    expect(added.stdout).toContain(`onap version 2: node ${a} listed (sources https://ci.onap.org/; classes artifact.*,pipelinerun.finished)`)
    expect((await runCli(['community', 'add-node', '--key', key, '--peer-id', b])).code).toBe(0)
    expect((await runCli(['community', 'add-node', '--key', key, '--peer-id', c])).code).toBe(0)
    const revoked = await runCli(['community', 'revoke', '--key', key, '--peer-id', b, '--reason', 'disk image leaked'])
    expect(revoked.code, revoked.stderr).toBe(0)
    expect((await runCli(['community', 'remove-node', '--key', key, '--peer-id', c])).code).toBe(0)

    expect(await showJson(['--key', key])).toMatchObject({
      version: 6,
      nodes: [{ peerId: a, sources: ['https://ci.onap.org/'], classes: ['artifact.*', 'pipelinerun.finished'] }],
      revoked: [{ peerId: b, version: 5, reason: 'disk image leaked' }]
    })
    const text = await runCli(['community', 'show', '--key', key])
    expect(text.stdout).toContain('version   6')
    expect(text.stdout).toMatch(new RegExp(`${a}\\s+https://ci.onap.org/\\s+artifact.\\*,pipelinerun.finished`))
    expect(text.stdout).toMatch(new RegExp(`${b}\\s+5\\s+disk image leaked`))

    const back = await runCli(['community', 'add-node', '--key', key, '--peer-id', b])
    expect(back.code).toBe(1)
    expect(back.stderr).toContain('a revoked key cannot be added again')
    const bad = await runCli(['community', 'add-node', '--key', key, '--peer-id', a, '--class', 'artefact.*'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('classes[0]')
  })

  it('rotate-root writes the new key file, retires the old one, and the chain verifies from either key', async () => {
    const dir = await tempDir()
    const oldKey = path.join(dir, 'root-2026.key')
    const newKey = path.join(dir, 'root-2027.key')
    expect((await runCli(['community', 'init', '--name', 'onap', '--out', oldKey])).code).toBe(0)
    const node = await peerId()
    expect((await runCli(['community', 'add-node', '--key', oldKey, '--peer-id', node])).code).toBe(0)
    const first = await showJson(['--key', oldKey])

    const rotated = await runCli(['community', 'rotate-root', '--key', oldKey, '--new-key-out', newKey])
    expect(rotated.code, rotated.stderr).toBe(0)
    expect(rotated.stdout).toContain(`${oldKey} is retired`)
    if (posix) expect((await stat(newKey)).mode & 0o777).toBe(0o600)
    const now = await showJson(['--key', newKey])
    expect(now).toMatchObject({ id: first.id, version: 3, previousRootKey: first.rootKey, nodes: [{ peerId: node }] })
    expect(now.rootKeys).toEqual([first.rootKey, now.rootKey])

    const stale = await runCli(['community', 'add-node', '--key', oldKey, '--peer-id', await peerId()])
    expect(stale.code).toBe(3)
    expect(stale.stderr).toContain(`retired; its current root key is ${now.rootKey}`)
    expect((await runCli(['community', 'rotate-root', '--key', newKey, '--new-key-out', oldKey])).stderr).toContain('never overwritten')
    expect((await runCli(['community', 'add-node', '--key', newKey, '--peer-id', await peerId()])).code).toBe(0)

    const chainFile = path.join(dir, 'chain.json')
    const exported = await runCli(['community', 'export', '--key', newKey, '--out', chainFile])
    expect(exported.code, exported.stderr).toBe(0)
    const { chain } = JSON.parse(await readFile(chainFile, 'utf8')) as { chain: unknown[] }
    expect(chain).toHaveLength(3)
    expect(verifyManifestChain(chain, first.rootKey)).toMatchObject({ version: 4, rootKey: now.rootKey })
    expect(await showJson(['--chain', chainFile])).toMatchObject({ version: 4, rootKeys: [first.rootKey, now.rootKey] })
  })

  it.skipIf(!posix)('refuses a root key file that group or others may read', async () => {
    const key = path.join(await tempDir(), 'root.key')
    expect((await runCli(['community', 'init', '--name', 'onap', '--out', key])).code).toBe(0)
    await chmod(key, 0o644)
    const shown = await runCli(['community', 'show', '--key', key])
    expect(shown.code).toBe(3)
    expect(shown.stderr).toContain(`chmod 600 ${key}`)
  })

  it('publish posts the chain to the first node that answers, and takes "already held" as done', async () => {
    const dir = await tempDir()
    const key = path.join(dir, 'root.key')
    expect((await runCli(['community', 'init', '--name', 'onap', '--out', key])).code).toBe(0)
    const route = await manifestRoute({ status: 200, body: {} })
    const dead = `http://127.0.0.1:${await closedPort()}`
    const published = await runCli(['community', 'publish', '--key', key, '--api-url', dead, '--api-url', route.url, '--token', 't'])
    expect(published.code, published.stderr).toBe(0)
    expect(published.stdout).toContain(`published onap version 1 to ${route.url}`)
    const chainFile = path.join(dir, 'chain.json')
    expect((await runCli(['community', 'export', '--key', key, '--out', chainFile])).code).toBe(0)
    expect(route.bodies).toEqual([JSON.parse(await readFile(chainFile, 'utf8'))])

    const holding = await manifestRoute({ status: 409, body: { statusCode: 409, code: 'CDG_STALE_MANIFEST', error: 'Conflict', message: 'community x manifest version 1 is the version already held' } })
    const again = await runCli(['community', 'publish', '--chain', chainFile, '--api-url', holding.url, '--token', 't'])
    expect(again.code, again.stderr).toBe(0)
    expect(again.stderr).toContain('already holds onap version 1 or a newer one')
  })

  it('reports a chain file that is not one', async () => {
    const file = path.join(await tempDir(), 'chain.json')
    await writeFile(file, '{"manifests": []}')
    const shown = await runCli(['community', 'show', '--chain', file])
    expect(shown.code).toBe(1)
    expect(shown.stderr).toContain('not a manifest chain document')
  })
})
