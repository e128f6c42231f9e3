import { encodeCDEventData, toCloudEventAttributes } from '../../src/events/index.js'
import type { CDEvent } from '../../src/events/types.js'
import { encodeDsseMaterial } from '../../src/signing/dsse.js'
import { decodeDsseMaterial, signCloudEvent } from '../../src/signing/index.js'
import type { Signer } from '../../src/signing/index.js'

/** A CDEvent signed as a node signs what it publishes: the record's bytes, as they travel. */
export function signRecord (cdevent: CDEvent, signer: Signer, sequence: number): Uint8Array {
  return signCloudEvent({ attributes: toCloudEventAttributes(cdevent), data: encodeCDEventData(cdevent), sequence }, signer).bytes
}

/** A record signed by `actual` whose envelope names `claimed` as the signer (keyid): a forgery. */
export function signRecordAs (cdevent: CDEvent, actual: Signer, claimed: string, sequence: number): Uint8Array {
  const fields = JSON.parse(Buffer.from(signRecord(cdevent, actual, sequence)).toString('utf8')) as Record<string, string>
  const envelope = decodeDsseMaterial(fields.dssematerial, { canonical: true })
  fields.dssematerial = encodeDsseMaterial({ ...envelope, signatures: envelope.signatures.map((s) => ({ ...s, keyid: claimed })) })
  return Buffer.from(JSON.stringify(fields), 'utf8')
}
