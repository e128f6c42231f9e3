import { readFile, stat } from 'node:fs/promises'
import { InvalidManifestError } from './errors.js'
import type { VerifiedChain } from './chain.js'
import { MAX_CHAIN_LENGTH } from './chain.js'
import { MAX_MANIFEST_BYTES } from './signed-manifest.js'

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
 * The `chain` member of a chain document file, unverified (give it to verifyChain or
 * acceptChain). Throws InvalidManifestError for a file that is too large or not such a document.
 */
export async function readChainDocument (filePath: string): Promise<unknown> {
  if ((await stat(filePath)).size > MAX_CHAIN_DOCUMENT_BYTES) {
    throw new InvalidManifestError('chain', `${filePath} is over ${MAX_CHAIN_DOCUMENT_BYTES} bytes: not a manifest chain`)
  }
  let value: unknown
  try {
    value = JSON.parse(await readFile(filePath, 'utf8'))
  } catch (err) {
    throw new InvalidManifestError('chain', `${filePath} is not JSON`, { cause: err })
  }
  if (typeof value !== 'object' || value === null || !Array.isArray((value as { chain?: unknown }).chain)) {
    throw new InvalidManifestError('chain', `${filePath} is not a manifest chain document {"chain": [...]} (write one with: cdgossip community export)`)
  }
  return (value as { chain: unknown[] }).chain
}
