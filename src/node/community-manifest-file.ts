import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { CdgossipError } from '../errors.js'
import { MAX_CHAIN_LENGTH, MAX_MANIFEST_BYTES, openSignedManifest, verifyChain, type VerifiedChain } from '../community/index.js'
import type { NodeConfig } from '../config.js'
import type { OwnCommunity } from './sibling-nodes.js'

/** A chain file holds at most MAX_CHAIN_LENGTH manifests, each base64 of at most MAX_MANIFEST_BYTES, and little else. */
const MAX_CHAIN_FILE_BYTES = MAX_CHAIN_LENGTH * (MAX_MANIFEST_BYTES * 2)

/**
 * The node's own community chain from config `community.manifest` (what `cdgossip community
 * export` writes: `{ chain: [...] }`, or the bare list), verified from its genesis: the operator
 * put the file there, so its genesis root key is the anchor. Undefined when no manifest is
 * configured; a missing, oversized or badly signed file is a CDG_CONFIG error naming the file.
 */
export async function readCommunityChain (config: Readonly<Pick<NodeConfig, 'dataDir' | 'community'>>): Promise<VerifiedChain | undefined> {
  const configured = config.community.manifest
  if (configured === undefined) return undefined
  const file = path.resolve(config.dataDir, configured)
  const problem = (message: string, cause?: unknown): CdgossipError => new CdgossipError('CDG_CONFIG', `community.manifest ${file}: ${message}`, cause === undefined ? {} : { cause })
  let text: string
  try {
    const bytes = await readFile(file)
    if (bytes.length > MAX_CHAIN_FILE_BYTES) throw problem(`${bytes.length} bytes, over the ${MAX_CHAIN_FILE_BYTES}-byte limit of a manifest chain`)
    text = bytes.toString('utf8')
  } catch (err) {
    if (err instanceof CdgossipError) throw err
    throw problem(`cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); write it with \`cdgossip community export --out <file>\``, err)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw problem('is not JSON: expected the chain `cdgossip community export` writes', err)
  }
  const chain = Array.isArray(parsed) ? parsed : (parsed as { chain?: unknown } | null)?.chain
  try {
    const anchor = Array.isArray(chain) && chain.length > 0 ? openSignedManifest(chain[0], 'chain[0]').manifest.id : ''
    return verifyChain(chain, anchor)
  } catch (err) {
    throw problem(err instanceof Error ? err.message : String(err), err)
  }
}

/** This node's community as the configured manifest lists it; undefined without `community.manifest`. */
export async function readCommunityMembership (config: Readonly<Pick<NodeConfig, 'dataDir' | 'community'>>): Promise<OwnCommunity | undefined> {
  const verified = await readCommunityChain(config)
  if (verified === undefined) return undefined
  const { manifest } = verified
  return { id: manifest.id, name: manifest.community, members: manifest.nodes.map(node => node.peerId) }
}
