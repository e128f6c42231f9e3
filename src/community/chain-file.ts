import { readFile, stat } from 'node:fs/promises'
import { InvalidManifestError } from './errors.js'
import { MAX_CHAIN_LENGTH, verifyChain, type VerifiedChain } from './chain.js'
import { MAX_MANIFEST_BYTES, openSignedManifest } from './signed-manifest.js'

/**
 * The chain as it is copied to nodes (`community export`, config `community.manifest`) and
 * published (`POST /v1/community/manifests`): `{"chain": [SignedManifest, …]}`, genesis first.
 * Public: it holds no secret, only what the root keys signed.
 */
export function encodeChainDocument (held: VerifiedChain): string {
  return `${JSON.stringify({ chain: held.chain }, null, 2)}\n`
}

/** Bound on a chain document: the longest chain with each manifest at its limit, in base64. */
export const MAX_CHAIN_DOCUMENT_BYTES = MAX_CHAIN_LENGTH * Math.ceil(MAX_MANIFEST_BYTES * 4 / 3 + 1024)

/**
 * A chain document file (or a bare list of signed manifests) verified from its own genesis: for
 * a file its owner put in place (a node's `community.manifest`, `community show --chain`), whose
 * genesis root key is therefore the anchor. Whether anyone else trusts that community is theirs
 * to decide (verifyChain with their anchor). Throws InvalidManifestError naming the file for a
 * file too large, not JSON, not a chain, or a chain that does not verify; the errno of a file
 * that cannot be read stays the cause's.
 */
export async function readChainFile (filePath: string): Promise<VerifiedChain> {
  if ((await stat(filePath)).size > MAX_CHAIN_DOCUMENT_BYTES) {
    throw new InvalidManifestError('chain', `${filePath} is over ${MAX_CHAIN_DOCUMENT_BYTES} bytes: not a manifest chain`)
  }
  let value: unknown
  try {
    value = JSON.parse(await readFile(filePath, 'utf8'))
  } catch (err) {
    throw new InvalidManifestError('chain', `${filePath} is not JSON: expected the chain \`cdgossip community export\` writes`, { cause: err })
  }
  const chain = Array.isArray(value) ? value : (value as { chain?: unknown } | null)?.chain
  if (!Array.isArray(chain) || chain.length === 0) {
    throw new InvalidManifestError('chain', `${filePath} is not a manifest chain document {"chain": [...]} (write one with: cdgossip community export)`)
  }
  try {
    return verifyChain(chain, openSignedManifest(chain[0], 'chain[0]').manifest.id)
  } catch (err) {
    if (err instanceof InvalidManifestError) throw new InvalidManifestError(err.details?.field ?? 'chain', `${filePath}: ${err.message}`, { cause: err })
    throw err
  }
}
