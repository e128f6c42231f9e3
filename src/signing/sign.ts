import type { PrivateKey } from '@libp2p/interface'
import type { CloudEventAttributes, SignedCloudEvent } from '../events/types.js'
import { encodeBase64 } from './base64.js'
import { DSSE_PAYLOAD_TYPE, encodeDsseMaterial, pae } from './dsse.js'
import { EventTooLargeError, MalformedRecordError } from './errors.js'
import { signEd25519 } from './keys.js'
import { computeVerificationMaterial } from './material.js'
import { checkRecordAttributes, checkSequence, encodeRecord, formatSequence, MAX_RECORD_BYTES, SIGNED_EXTENSIONS } from './record.js'

/** Who signs: the node's Ed25519 libp2p key and its peer ID (the DSSE keyid, the record's origin). */
export interface Signer {
  privateKey: PrivateKey
  peerId: string
}

export interface SignInput {
  attributes: CloudEventAttributes
  /** the exact data bytes (the CDEvent JSON); they travel verbatim in `data_base64` */
  data: Uint8Array
  /** this record's number in its (origin, event class) sequence, from 1 */
  sequence: number
}

/**
 * Sign a CloudEvent with the Verifiability extension (signing `sequence` as its one extension)
 * and encode it as a wire record. Synchronous: Ed25519 signing is, with libsodium or node:crypto
 * alike (see keys.ts). Each digest is computed once and the record text is built once.
 * Throws MalformedRecordError for attributes that would not make a valid record, and
 * EventTooLargeError when the record would exceed MAX_RECORD_BYTES.
 */
export function signCloudEvent (input: SignInput, signer: Signer): SignedCloudEvent {
  const { attributes, data } = input
  if (!(data instanceof Uint8Array)) throw new MalformedRecordError('data must be bytes', { field: 'data' })
  // base64 alone already over the limit: refuse before hashing and signing
  const dataBase64Length = Math.ceil(data.byteLength / 3) * 4
  if (dataBase64Length > MAX_RECORD_BYTES) throw new EventTooLargeError(dataBase64Length, MAX_RECORD_BYTES)
  checkRecordAttributes(attributes)
  checkSequence(input.sequence)

  const sequence = formatSequence(input.sequence)
  const material = computeVerificationMaterial(attributes, data, [['sequence', sequence]])
  const sig = signEd25519(signer.privateKey, signer.peerId, pae(DSSE_PAYLOAD_TYPE, material))
  const dssematerial = encodeDsseMaterial({ payloadType: DSSE_PAYLOAD_TYPE, payload: material, signatures: [{ keyid: signer.peerId, sig }] })

  // only the attributes a record carries, without undefined-valued keys
  const carried: CloudEventAttributes = { specversion: '1.0', id: attributes.id, source: attributes.source, type: attributes.type }
  if (attributes.subject !== undefined) carried.subject = attributes.subject
  if (attributes.time !== undefined) carried.time = attributes.time
  carried.datacontenttype = attributes.datacontenttype
  if (attributes.dataschema !== undefined) carried.dataschema = attributes.dataschema

  const { bytes, digest } = encodeRecord({
    ...carried,
    datacontenttype: attributes.datacontenttype as string,
    sequence,
    signedextattrs: SIGNED_EXTENSIONS,
    dssematerial,
    data_base64: encodeBase64(data)
  })
  return {
    bytes,
    digest,
    attributes: Object.freeze({ ...carried, sequence, signedextattrs: SIGNED_EXTENSIONS, dssematerial }),
    // a copy of its own (Buffer#slice would be a view): the caller's bytes may sit in a shared pool
    data: new Uint8Array(data),
    origin: signer.peerId,
    sequence: input.sequence
  }
}
