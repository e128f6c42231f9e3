/**
 * A community root key and its signed manifest chain, as `cdgossip community init` and `export`
 * make them, for tests that run several nodes of one community.
 */
import fs from 'node:fs'
import path from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { signManifest } from '../../src/community/index.js'

export interface RootKey {
  key: PrivateKey
  /** the root key in peer-ID form: the community id of its genesis manifest */
  id: string
}

export async function createRootKey (): Promise<RootKey> {
  const key = await generateKeyPair('Ed25519')
  return { key, id: peerIdFromPrivateKey(key).toString() }
}

/**
 * Writes the genesis manifest of community `name` listing `nodes` (in that order) as a chain file
 * `community.json` in `dir`; returns its path. Synchronous, so a node's configure callback can call it.
 */
export function writeCommunityChain (dir: string, root: RootKey, nodes: string[], name = 'onap'): string {
  const signed = signManifest({
    format: 1,
    community: name,
    id: root.id,
    version: 1,
    issuedAt: new Date().toISOString(),
    rootKey: root.id,
    nodes: nodes.map(peerId => ({ peerId })),
    revoked: []
  }, [root.key])
  const file = path.join(dir, 'community.json')
  fs.writeFileSync(file, JSON.stringify({ chain: [signed] }))
  return file
}
