import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterEach, describe, expect, it } from 'vitest'
import { encodeChainDocument, genesisChain, readChainFile, rotateRoot } from '../../src/community/index.js'

const dirs: string[] = []

afterEach(async () => {
  await Promise.all(dirs.splice(0).map(async dir => await rm(dir, { recursive: true, force: true })))
})

async function file (name: string, text: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cdgossip-chain-file-'))
  dirs.push(dir)
  const filePath = path.join(dir, name)
  await writeFile(filePath, text)
  return filePath
}

describe('chain files', () => {
  it('reads what export writes, and a bare list, verified from the genesis', async () => {
    const root1 = await generateKeyPair('Ed25519')
    const held = rotateRoot(genesisChain('onap', root1), root1, await generateKeyPair('Ed25519'))
    expect(await readChainFile(await file('chain.json', encodeChainDocument(held)))).toEqual(held)
    expect((await readChainFile(await file('list.json', JSON.stringify(held.chain)))).manifest).toEqual(held.manifest)
  })

  it('refuses what is not a chain, and a chain that does not verify, naming the file', async () => {
    const notJson = await file('a.json', 'chain: []')
    await expect(readChainFile(notJson)).rejects.toMatchObject({ code: 'CDG_INVALID_MANIFEST', message: expect.stringContaining(`${notJson} is not JSON`) })
    await expect(readChainFile(await file('b.json', '{"manifests": []}'))).rejects.toThrow(/not a manifest chain document/)
    const root = await generateKeyPair('Ed25519')
    const [genesis] = genesisChain('onap', root).chain
    const forged = await file('c.json', JSON.stringify({ chain: [{ ...genesis, signatures: [{ ...genesis?.signatures[0], sig: Buffer.alloc(64).toString('base64') }] }] }))
    await expect(readChainFile(forged)).rejects.toMatchObject({ code: 'CDG_INVALID_MANIFEST', message: expect.stringMatching(new RegExp(`^${forged}: .*does not verify`)) })
  })
})
