/**
 * signing/: the node identity and the CloudEvents Verifiability extension as cdgossip uses it:
 * a DSSE v1 envelope whose payload is the 32-byte SHA256 verification material, keyid = the
 * signer's Ed25519 peer ID, `signedextattrs` = `sequence`. That is the extension text with the
 * 32-byte payload (payloadType .../dsse/v0.1). Later cloudevents/spec text (2026-06) keeps the
 * payloadType but makes the payload a JSON {core, ext, signedextattrs} object; a verifier of
 * that text refuses our envelopes at its payload step, and ours refuses theirs (`bad-payload`).
 * Pure apart from the key file.
 */
export { loadOrCreateIdentity } from './identity.js'
export type { Identity } from './identity.js'
export { signCloudEvent } from './sign.js'
export type { Signer, SignInput } from './sign.js'
export { openSignedRecord, openSignedRecordWith, MAX_RECORD_BYTES, SEQUENCE_DIGITS, formatSequence, parseSequence } from './record.js'
export type { OpenRecordOptions } from './record.js'
export { verifyCloudEvent, parseCloudEventJson } from './verify.js'
export { VERIFY_WORKER_NAME, VerifyPool, inlineVerifier, sharedVerifier } from './verify-pool.js'
export { ED25519_LIBRARY } from './keys.js'
export type { SignatureVerifier, VerifyPoolOptions } from './verify-pool.js'
export type { CloudEventParts, VerifiedCloudEvent, VerifyOptions } from './verify.js'
export { DSSE_PAYLOAD_TYPE, pae, decodeDsseMaterial } from './dsse.js'
export type { DsseEnvelope, DsseSignature, DecodeDsseOptions } from './dsse.js'
export { computeVerificationMaterial } from './material.js'
export type { MaterialAttributes, SignedExtension } from './material.js'
export { normalizeTime } from './time.js'
export { isEd25519PeerId } from './keys.js'
export { MalformedRecordError, BadSignatureError, EventTooLargeError, KeyFileError } from './errors.js'
export type { BadSignatureReason, BadSignatureDetails, MalformedRecordDetails, EventTooLargeDetails, KeyFileDetails } from './errors.js'
export { readSecretFile, writeNewSecretFile, replaceSecretFile } from './secret-file.js'
export type { SecretFileOptions } from './secret-file.js'
export { signEd25519, verifyEd25519, ed25519KeyFromPeerId } from './keys.js'
export { encodeBase64, decodeBase64 } from './base64.js'
