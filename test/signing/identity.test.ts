import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { afterEach, describe, expect, it } from 'vitest'
import { isCdgossipError } from '../../src/errors.js'
import { loadOrCreateIdentity, openSignedRecord } from '../../src/signing/index.js'
import { sign } from './fixtures.js'

const posix = process.platform !== 'win32'
const dirs: string[] = []

afterEach(async () => {
  await Promise.all(dirs.splice(0).map(async dir => await rm(dir, { recursive: true, force: true })))
})

async function tempDir (): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cdgossip-signing-'))
  dirs.push(dir)
  return dir
}

async function expectConfigError (promise: Promise<unknown>): Promise<Error> {
  const err = await promise.then(() => undefined, (e: unknown) => e)
  expect(isCdgossipError(err), String(err)).toBe(true)
  if (!isCdgossipError(err)) throw new Error('unreachable')
  expect(err.code).toBe('CDG_CONFIG')
  return err
}

describe('loadOrCreateIdentity', () => {
  it('creates an Ed25519 key file with mode 0600 in a new 0700 directory', async () => {
    const keyPath = path.join(await tempDir(), 'data', 'identity.key')
    const identity = await loadOrCreateIdentity(keyPath)
    expect(identity.created).toBe(true)
    expect(identity.privateKey.type).toBe('Ed25519')
    expect(identity.peerId).toMatch(/^12D3KooW/)
    if (posix) {
      expect((await stat(keyPath)).mode & 0o777).toBe(0o600)
      expect((await stat(path.dirname(keyPath))).mode & 0o777).toBe(0o700)
    }
    expect(Buffer.from(await readFile(keyPath)).equals(Buffer.from(privateKeyToProtobuf(identity.privateKey)))).toBe(true)
    // no temp file left behind
    expect(await readdir(path.dirname(keyPath))).toEqual(['identity.key'])
  })

  it('loads the same identity on later calls', async () => {
    const keyPath = path.join(await tempDir(), 'identity.key')
    const first = await loadOrCreateIdentity(keyPath)
    const second = await loadOrCreateIdentity(keyPath)
    expect(second.created).toBe(false)
    expect(second.peerId).toBe(first.peerId)
    expect(second.privateKey.equals(first.privateKey)).toBe(true)
    // and it signs records that verify as that peer
    expect(openSignedRecord(sign(second).bytes).origin).toBe(first.peerId)
  })

  it('gives concurrent first starts one identity', async () => {
    const keyPath = path.join(await tempDir(), 'identity.key')
    const results = await Promise.all([1, 2, 3, 4].map(async () => await loadOrCreateIdentity(keyPath)))
    expect(new Set(results.map(r => r.peerId)).size).toBe(1)
    expect(results.filter(r => r.created)).toHaveLength(1)
    expect(await readdir(path.dirname(keyPath))).toEqual(['identity.key'])
  })

  it.runIf(posix)('refuses a key file readable by group or others, saying how to fix it', async () => {
    const keyPath = path.join(await tempDir(), 'identity.key')
    await loadOrCreateIdentity(keyPath)
    for (const mode of [0o644, 0o640, 0o604, 0o660]) {
      await chmod(keyPath, mode)
      const err = await expectConfigError(loadOrCreateIdentity(keyPath))
      expect(err.message).toContain(`chmod 600 ${keyPath}`)
      expect((err as { details?: { path?: string } }).details?.path).toBe(keyPath)
    }
    await chmod(keyPath, 0o400)
    expect((await loadOrCreateIdentity(keyPath)).created).toBe(false)
  })

  it('refuses a non-Ed25519 key', async () => {
    const keyPath = path.join(await tempDir(), 'identity.key')
    await writeFile(keyPath, privateKeyToProtobuf(await generateKeyPair('secp256k1')), { mode: 0o600 })
    await expectConfigError(loadOrCreateIdentity(keyPath))
  })

  it('refuses a file that is not a libp2p key, and never overwrites it', async () => {
    const keyPath = path.join(await tempDir(), 'identity.key')
    for (const content of [Buffer.alloc(0), Buffer.from('not a key'), Buffer.alloc(10_000)]) {
      await writeFile(keyPath, content, { mode: 0o600 })
      await expectConfigError(loadOrCreateIdentity(keyPath))
      expect(Buffer.from(await readFile(keyPath)).equals(content)).toBe(true)
    }
  })

  it('refuses a key path that is a directory', async () => {
    const keyPath = path.join(await tempDir(), 'identity.key')
    await mkdir(keyPath)
    await expectConfigError(loadOrCreateIdentity(keyPath))
  })

  // Skipped as root (CI containers run as root) and off POSIX: root writes into a 0500 directory
  // anyway and Windows has no mode bits, so there the directory is not unwritable and the test
  // could not fail. Everywhere else it runs.
  it.runIf(posix && process.getuid?.() !== 0)('reports an unwritable directory as CDG_CONFIG', async () => {
    const dir = path.join(await tempDir(), 'locked')
    await mkdir(dir, { mode: 0o500 })
    await expectConfigError(loadOrCreateIdentity(path.join(dir, 'identity.key')))
    await chmod(dir, 0o700)
  })
})
