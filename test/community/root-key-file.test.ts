import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { addNode, createRootKeyFile, currentRootKey, loadRootKeyFile, rotateRoot, saveRootKeyFile, verifyManifestChain, writeRootKeyFile } from '../../src/community/index.js'
import { isCdgossipError } from '../../src/errors.js'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'

const posix = process.platform !== 'win32'
const dirs: string[] = []

afterEach(async () => {
  await Promise.all(dirs.splice(0).map(async dir => await rm(dir, { recursive: true, force: true })))
})

async function tempDir (): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cdgossip-community-'))
  dirs.push(dir)
  return dir
}

async function configError (promise: Promise<unknown>): Promise<Error> {
  const err = await promise.then(() => undefined, (e: unknown) => e)
  expect(isCdgossipError(err), String(err)).toBe(true)
  if (!isCdgossipError(err)) throw new Error('unreachable')
  expect(err.code).toBe('CDG_CONFIG')
  return err
}

describe('community root key files', () => {
  it('creates a 0600 file holding the root key and the genesis, and reads it back', async () => {
    const keyPath = path.join(await tempDir(), 'onap-root.key')
    const created = await createRootKeyFile(keyPath, 'onap')
    expect(created.rootKey).toMatch(/^12D3KooW/)
    expect(created.chain.manifest).toMatchObject({ community: 'onap', id: created.rootKey, version: 1 })
    if (posix) expect((await stat(keyPath)).mode & 0o777).toBe(0o600)
    const loaded = await loadRootKeyFile(keyPath)
    expect(loaded.rootKey).toBe(created.rootKey)
    expect(loaded.chain).toEqual(created.chain)
    expect(peerIdFromPrivateKey(currentRootKey(loaded)).toString()).toBe(created.rootKey)
  })

  it('refuses to overwrite a key file', async () => {
    const keyPath = path.join(await tempDir(), 'root.key')
    await writeFile(keyPath, 'precious', { mode: 0o600 })
    const err = await configError(createRootKeyFile(keyPath, 'onap'))
    expect(err.message).toContain('never overwritten')
    expect(await readFile(keyPath, 'utf8')).toBe('precious')
  })

  it.skipIf(!posix)('refuses a key file that group or others may read, naming the fix', async () => {
    const keyPath = path.join(await tempDir(), 'root.key')
    await createRootKeyFile(keyPath, 'onap')
    await chmod(keyPath, 0o640)
    const err = await configError(loadRootKeyFile(keyPath))
    expect(err.message).toContain(`chmod 600 ${keyPath}`)
  })

  it('refuses a file that is not a root key file, or whose chain was edited', async () => {
    const dir = await tempDir()
    const other = path.join(dir, 'other.json')
    await writeFile(other, '{"hello":1}', { mode: 0o600 })
    expect((await configError(loadRootKeyFile(other))).message).toContain('is not a community root key file')

    const keyPath = path.join(dir, 'root.key')
    await createRootKeyFile(keyPath, 'onap')
    const doc = JSON.parse(await readFile(keyPath, 'utf8')) as { chain: Array<{ payload: string }> }
    const manifest = JSON.parse(Buffer.from(doc.chain[0]!.payload, 'base64').toString()) as { community: string }
    manifest.community = 'tekton'
    doc.chain[0]!.payload = Buffer.from(JSON.stringify(manifest)).toString('base64')
    await writeFile(keyPath, JSON.stringify(doc))
    expect((await configError(loadRootKeyFile(keyPath))).message).toMatch(/chain that does not verify: .*does not verify/)
  })

  it('saves edits, and after a rotation the old file is retired and the new one signs', async () => {
    const dir = await tempDir()
    const oldPath = path.join(dir, 'root-1.key')
    const newPath = path.join(dir, 'root-2.key')
    const node = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    let file = await createRootKeyFile(oldPath, 'onap')
    file = await saveRootKeyFile(file, addNode(file.chain, currentRootKey(file), { peerId: node }))
    const newKey = await generateKeyPair('Ed25519')
    const rotated = rotateRoot(file.chain, currentRootKey(file), newKey)
    const next = await writeRootKeyFile(newPath, newKey, rotated)
    await saveRootKeyFile(file, rotated)

    const retired = await loadRootKeyFile(oldPath)
    expect(() => currentRootKey(retired)).toThrow(/retired; its current root key is 12D3KooW/)
    const loaded = await loadRootKeyFile(newPath)
    expect(currentRootKey(loaded)).toBeDefined()
    expect(verifyManifestChain(loaded.chain.chain, file.rootKey)).toMatchObject({ version: 3, rootKey: next.rootKey, nodes: [{ peerId: node }] })
  })
})
