/**
 * community/: a community's identity beyond one node. An offline Ed25519 root key (named by its
 * peer ID, `12D3KooW…`) signs versioned manifests listing the node keys that may sign for the
 * community, with optional scopes, and the revoked ones; a chain of manifests (genesis, each
 * root rotation, the latest) lets anyone who trusts one root key of the community verify the
 * latest. Pure apart from the root key file.
 */
export { MANIFEST_FORMAT, MAX_MANIFEST_NODES, MAX_MANIFEST_REVOCATIONS, MAX_REVOCATION_REASON_CHARS, encodeManifest, validateManifest, membership } from './manifest.js'
export type { CommunityManifest, ManifestNode, Revocation, Membership } from './manifest.js'
export { MANIFEST_PAYLOAD_TYPE, MAX_MANIFEST_BYTES, MAX_MANIFEST_SIGNATURES, signManifest, openSignedManifest, checkSignatures } from './signed-manifest.js'
export type { SignedManifest, OpenedManifest } from './signed-manifest.js'
export { MAX_ROOT_ROTATIONS, MAX_CHAIN_LENGTH, verifyManifestChain, verifyChain, acceptManifest, acceptChain } from './chain.js'
export type { VerifiedChain } from './chain.js'
export { genesisChain, addNode, removeNode, revokeNode, rotateRoot } from './edits.js'
export { createRootKeyFile, writeRootKeyFile, saveRootKeyFile, loadRootKeyFile, currentRootKey } from './root-key-file.js'
export type { RootKeyFile } from './root-key-file.js'
export { InvalidManifestError, StaleManifestError } from './errors.js'
export type { InvalidManifestDetails, StaleManifestDetails } from './errors.js'
export { encodeChainDocument, readChainFile, MAX_CHAIN_DOCUMENT_BYTES } from './chain-file.js'
