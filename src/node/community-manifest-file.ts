import path from 'node:path'
import { CdgossipError } from '../errors.js'
import { readChainFile, type VerifiedChain } from '../community/index.js'
import type { NodeConfig } from '../config.js'

/**
 * The node's own community chain from config `community.manifest` (relative to the data dir),
 * verified from its genesis by community/'s one chain file reader: the operator put the file
 * there, so its genesis root key is the anchor. Undefined when no manifest is configured; a
 * missing or badly signed file is a CDG_CONFIG error naming the file.
 */
export async function readCommunityChain (config: Readonly<Pick<NodeConfig, 'dataDir' | 'community'>>): Promise<VerifiedChain | undefined> {
  const configured = config.community.manifest
  if (configured === undefined) return undefined
  const file = path.resolve(config.dataDir, configured)
  try {
    return await readChainFile(file)
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file; write it with `cdgossip community export --out <file>`' : (err as Error).message
    throw new CdgossipError('CDG_CONFIG', `community.manifest ${file}: ${why}`, { cause: err })
  }
}
