import type { NodeConfig } from '../config.js'
import type { OwnCommunity } from './sibling-nodes.js'

/** Placeholder until h/community-manifest lands: no manifest configured means no community. */
export async function readCommunityMembership (config: Readonly<NodeConfig>): Promise<OwnCommunity | undefined> {
  if (config.community.manifest === undefined) return undefined
  throw new Error('community.manifest needs the manifest library')
}
