import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { expect } from 'vitest'
import type { CloudEventAttributes, SignedCloudEvent } from '../../src/events/types.js'
import { isCdgossipError } from '../../src/errors.js'
import type { ErrorCode } from '../../src/errors.js'
import { signCloudEvent } from '../../src/signing/index.js'
import type { BadSignatureReason, Signer } from '../../src/signing/index.js'
import { encodeRecordText } from '../../src/signing/record.js'
import type { RecordFields } from '../../src/signing/record.js'

export const encoder = new TextEncoder()
export const decoder = new TextDecoder()

export async function newSigner (): Promise<Signer> {
  const privateKey = await generateKeyPair('Ed25519')
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() }
}

export const ATTRIBUTES: CloudEventAttributes = {
  specversion: '1.0',
  id: '271069a8-fc18-44f1-b38f-9d70a1695819',
  source: '/event/source/123',
  type: 'dev.cdevents.pipelinerun.finished.0.2.0',
  subject: 'mySubject123',
  time: '2023-03-20T14:27:05.315384Z',
  datacontenttype: 'application/json',
  dataschema: 'https://cdevents.dev/0.5.1/schema/pipeline-run-finished-event'
}

export const DATA = encoder.encode(JSON.stringify({
  context: { specversion: '0.5.1', id: ATTRIBUTES.id, source: ATTRIBUTES.source, type: ATTRIBUTES.type, timestamp: ATTRIBUTES.time },
  subject: { id: 'mySubject123', content: { pipelineName: 'myPipeline', url: 'https://www.example.com/mySubject123', outcome: 'success' } }
}))

export function sign (signer: Signer, overrides: Partial<CloudEventAttributes> = {}, data: Uint8Array = DATA, sequence = 1): SignedCloudEvent {
  return signCloudEvent({ attributes: { ...ATTRIBUTES, ...overrides }, data, sequence }, signer)
}

/** The record's members as parsed from its bytes. */
export function fieldsOf (record: SignedCloudEvent | Uint8Array): RecordFields {
  const bytes = record instanceof Uint8Array ? record : record.bytes
  return JSON.parse(decoder.decode(bytes)) as RecordFields
}

/** Canonical wire bytes for (possibly tampered) fields: only the values differ from a real record. */
export function reencode (fields: RecordFields): Uint8Array {
  return encoder.encode(encodeRecordText(fields))
}

/** Run `fn`, expect a CdgossipError with `code` (and BadSignature `reason`), return it. */
export function expectError (fn: () => unknown, code: ErrorCode, reason?: BadSignatureReason): unknown {
  let caught: unknown
  try {
    fn()
  } catch (err) {
    caught = err
  }
  expect(caught, 'expected an error').toBeDefined()
  expect(isCdgossipError(caught), String(caught)).toBe(true)
  if (!isCdgossipError(caught)) return caught
  expect(caught.code, caught.message).toBe(code)
  if (reason !== undefined) expect((caught.details as { reason?: string }).reason, caught.message).toBe(reason)
  return caught
}

/** Decode a dssematerial attribute to its envelope JSON object. */
export function envelopeOf (dssematerial: string): { payloadType: string, payload: string, signatures: Array<{ keyid?: string, sig: string }> } {
  return JSON.parse(Buffer.from(dssematerial, 'base64').toString('utf8'))
}

export function toDssematerial (envelope: unknown): string {
  return Buffer.from(JSON.stringify(envelope), 'utf8').toString('base64')
}
