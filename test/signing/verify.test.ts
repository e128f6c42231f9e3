import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { beforeAll, describe, expect, it } from 'vitest'
import { computeVerificationMaterial, DSSE_PAYLOAD_TYPE, isEd25519PeerId, normalizeTime, pae, parseCloudEventJson, verifyCloudEvent } from '../../src/signing/index.js'
import type { BadSignatureReason, CloudEventParts, Signer } from '../../src/signing/index.js'
import { encodeDsseMaterial } from '../../src/signing/dsse.js'
import { signEd25519 } from '../../src/signing/keys.js'
import { DATA, encoder, envelopeOf, expectError, fieldsOf, newSigner, sign, toDssematerial } from './fixtures.js'

let alice: Signer
let bob: Signer

beforeAll(async () => {
  alice = await newSigner()
  bob = await newSigner()
})

/** A signed record as a binary-mode event would reach a webhook: string attributes, raw data. */
function binaryEvent (signer: Signer, time?: string): CloudEventParts {
  const { data_base64: dataBase64, ...attributes } = fieldsOf(sign(signer, time === undefined ? {} : { time }))
  return { attributes: { ...attributes }, data: Buffer.from(dataBase64, 'base64') }
}

describe('verifyCloudEvent', () => {
  it('verifies from the event alone: the keyid peer ID embeds the Ed25519 public key', () => {
    const event = binaryEvent(alice)
    const result = verifyCloudEvent(event)
    expect(result.signer).toBe(alice.peerId)
    expect(result.signedExtensions).toEqual({ sequence: '0000000000000001' })
    // the key the verifier used is the one in the peer ID
    const embedded = peerIdFromString(result.signer).publicKey
    expect(embedded?.equals(alice.privateKey.publicKey)).toBe(true)
  })

  it('ignores unsigned extension attributes and reports only the signed ones', () => {
    const event = binaryEvent(alice)
    event.attributes.traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    expect(verifyCloudEvent(event).signedExtensions).toEqual({ sequence: '0000000000000001' })
  })

  it('signs time normalised to UTC: +02:00 and Z give the same material', () => {
    const a = computeVerificationMaterial({ id: '1', time: '2024-05-01T12:00:00+02:00' }, DATA)
    const b = computeVerificationMaterial({ id: '1', time: '2024-05-01T10:00:00Z' }, DATA)
    const c = computeVerificationMaterial({ id: '1', time: '2024-05-01T12:00:00Z' }, DATA)
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true)
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false)

    const event = binaryEvent(alice, '2024-05-01T12:00:00+02:00')
    event.attributes.time = '2024-05-01T10:00:00Z'
    expect(verifyCloudEvent(event).signer).toBe(alice.peerId)
    event.attributes.time = '2024-05-01T12:00:00Z'
    expectError(() => verifyCloudEvent(event), 'CDG_BAD_SIGNATURE', 'material-mismatch')
    event.attributes.time = 'noon'
    expectError(() => verifyCloudEvent(event), 'CDG_BAD_SIGNATURE', 'bad-attribute')
  })

  it('refuses modified events (material-mismatch)', () => {
    const mutations: Array<(e: CloudEventParts) => void> = [
      e => { e.attributes.id = 'x' },
      e => { e.attributes.source = '/x' },
      e => { e.attributes.type = 'x' },
      e => { e.attributes.subject = 'x' },
      e => { delete e.attributes.subject },
      e => { e.attributes.dataschema = 'https://example.com/x' },
      e => { e.attributes.sequence = '0000000000000002' },
      e => { e.data = Uint8Array.from(e.data); e.data[0] = (e.data[0] ?? 0) ^ 1 },
      e => { e.data = e.data.subarray(1) }
    ]
    for (const mutate of mutations) {
      const event = binaryEvent(alice)
      mutate(event)
      expectError(() => verifyCloudEvent(event), 'CDG_BAD_SIGNATURE', 'material-mismatch')
    }
  })

  it('names the failing step of an unusable dssematerial', () => {
    const cases: Array<[string | undefined, BadSignatureReason]> = [
      [undefined, 'missing-material'],
      ['', 'missing-material'],
      ['%%%not base64%%%', 'bad-base64'],
      ['eyJhIjoxfQ', 'bad-base64'], // unpadded
      [Buffer.from('not json').toString('base64'), 'bad-envelope'],
      [toDssematerial([1, 2]), 'bad-envelope'],
      [toDssematerial({ payloadType: DSSE_PAYLOAD_TYPE, payload: 'AAAA', signatures: [] }), 'bad-envelope'],
      [toDssematerial({ payloadType: DSSE_PAYLOAD_TYPE, signatures: [{ keyid: 'k', sig: 'AAAA' }] }), 'bad-envelope'],
      [toDssematerial({ payloadType: 'application/json', payload: Buffer.alloc(32).toString('base64'), signatures: [{ keyid: 'k', sig: 'AAAA' }] }), 'wrong-payload-type'],
      [toDssematerial({ payloadType: DSSE_PAYLOAD_TYPE, payload: Buffer.alloc(31).toString('base64'), signatures: [{ keyid: 'k', sig: 'AAAA' }] }), 'bad-payload'],
      [toDssematerial({ payloadType: DSSE_PAYLOAD_TYPE, payload: Buffer.alloc(32).toString('base64'), signatures: [{ keyid: 'testkey', sig: 'AAAA' }] }), 'bad-keyid'],
      [toDssematerial({ payloadType: DSSE_PAYLOAD_TYPE, payload: Buffer.alloc(32).toString('base64'), signatures: [{ sig: 'AAAA' }] }), 'bad-keyid'],
      ['A'.repeat(64 * 1024 + 4), 'bad-envelope']
    ]
    for (const [dssematerial, reason] of cases) {
      const event = binaryEvent(alice)
      if (dssematerial === undefined) delete event.attributes.dssematerial
      else event.attributes.dssematerial = dssematerial
      expectError(() => verifyCloudEvent(event), 'CDG_BAD_SIGNATURE', reason)
    }
  })

  it('refuses a signature under another Ed25519 peer ID (bad-signature)', () => {
    const event = binaryEvent(alice)
    const envelope = envelopeOf(event.attributes.dssematerial ?? '')
    envelope.signatures = [{ keyid: bob.peerId, sig: envelope.signatures[0]?.sig ?? '' }]
    event.attributes.dssematerial = toDssematerial(envelope)
    expectError(() => verifyCloudEvent(event), 'CDG_BAD_SIGNATURE', 'bad-signature')
  })

  it('takes the first signature that verifies among several, and honours acceptSigner', () => {
    const event = binaryEvent(alice)
    const envelope = envelopeOf(event.attributes.dssematerial ?? '')
    const aliceSig = envelope.signatures[0]?.sig ?? ''
    const material = Buffer.from(envelope.payload, 'base64')
    const bobSig = Buffer.from(signEd25519(bob.privateKey, bob.peerId, pae(DSSE_PAYLOAD_TYPE, material))).toString('base64')
    envelope.signatures = [
      { keyid: 'testkey', sig: 'AAAA' },
      { keyid: bob.peerId, sig: aliceSig }, // wrong key for this signature
      { keyid: alice.peerId, sig: aliceSig },
      { keyid: bob.peerId, sig: bobSig }
    ]
    event.attributes.dssematerial = toDssematerial(envelope)
    expect(verifyCloudEvent(event).signer).toBe(alice.peerId)
    expect(verifyCloudEvent(event, { acceptSigner: id => id === bob.peerId }).signer).toBe(bob.peerId)
    expectError(() => verifyCloudEvent(event, { acceptSigner: () => false }), 'CDG_BAD_SIGNATURE', 'bad-keyid')
  })

  it('accepts the URL-safe base64 DSSE allows inside the envelope', () => {
    const event = binaryEvent(alice)
    const envelope = envelopeOf(event.attributes.dssematerial ?? '')
    const urlSafe = (b64: string): string => Buffer.from(b64, 'base64').toString('base64url')
    envelope.payload = urlSafe(envelope.payload)
    envelope.signatures = envelope.signatures.map(s => ({ ...s, sig: urlSafe(s.sig) }))
    event.attributes.dssematerial = toDssematerial(envelope)
    expect(verifyCloudEvent(event).signer).toBe(alice.peerId)
  })

  it('validates signedextattrs per the extension', () => {
    for (const signedextattrs of ['sequence,sequence', 'sequence,id', 'dssematerial', 'signedextattrs', 'sequence,', ',sequence', 'Sequence', 'missing']) {
      const event = binaryEvent(alice)
      event.attributes.signedextattrs = signedextattrs
      expectError(() => verifyCloudEvent(event), 'CDG_BAD_SIGNATURE', 'bad-signedextattrs')
    }
    // the signed `sequence` dropped from the list: the material no longer matches
    const event = binaryEvent(alice)
    event.attributes.signedextattrs = ''
    expectError(() => verifyCloudEvent(event), 'CDG_BAD_SIGNATURE', 'material-mismatch')
  })

  it('does not read inherited properties as attributes', () => {
    const event = binaryEvent(alice)
    event.attributes.signedextattrs = 'constructor'
    expectError(() => verifyCloudEvent(event), 'CDG_BAD_SIGNATURE', 'bad-signedextattrs')
  })

  it('refuses lone surrogates, which would share a digest with U+FFFD', () => {
    const signer = alice
    const attributes = { specversion: '1.0', id: 'a\ufffdb', source: '/s', type: 't' }
    const material = computeVerificationMaterial(attributes, DATA)
    const sig = signEd25519(signer.privateKey, signer.peerId, pae(DSSE_PAYLOAD_TYPE, material))
    const dssematerial = encodeDsseMaterial({ payloadType: DSSE_PAYLOAD_TYPE, payload: material, signatures: [{ keyid: signer.peerId, sig }] })
    expect(verifyCloudEvent({ attributes: { ...attributes, dssematerial }, data: DATA }).signer).toBe(signer.peerId)
    expectError(() => verifyCloudEvent({ attributes: { ...attributes, id: 'a\ud800b', dssematerial }, data: DATA }), 'CDG_BAD_SIGNATURE', 'bad-attribute')
  })
})

describe('isEd25519PeerId', () => {
  it('accepts canonical Ed25519 peer IDs only', async () => {
    expect(isEd25519PeerId(alice.peerId)).toBe(true)
    const secp = peerIdFromPrivateKey(await generateKeyPair('secp256k1')).toString()
    for (const value of [secp, '', 'testkey', alice.peerId.slice(0, -1), `${alice.peerId} `, peerIdFromString(alice.peerId).toCID().toString()]) {
      expect(isEd25519PeerId(value), value).toBe(false)
    }
  })
})

describe('parseCloudEventJson', () => {
  const base = { specversion: '1.0', id: '1', source: '/s', type: 't' }

  it('takes data_base64 as exact bytes', () => {
    expect(Array.from(parseCloudEventJson({ ...base, data_base64: '8J+koQ==' }).data)).toEqual([0xf0, 0x9f, 0xa4, 0xa1])
  })

  it('takes JSON data as compact JSON.stringify, and string data as its UTF-8', () => {
    expect(Buffer.from(parseCloudEventJson({ ...base, data: { hello: 'world', n: [1, 2] } }).data).toString()).toBe('{"hello":"world","n":[1,2]}')
    expect(Buffer.from(parseCloudEventJson({ ...base, data: 'héllo' }).data).toString()).toBe('héllo')
    expect(Buffer.from(parseCloudEventJson({ ...base, data: 42 }).data).toString()).toBe('42')
    expect(parseCloudEventJson({ ...base }).data).toHaveLength(0)
    expect(parseCloudEventJson({ ...base, data: null }).data).toHaveLength(0)
  })

  it('keeps attributes as strings: booleans and integers canonical, nulls absent', () => {
    const { attributes } = parseCloudEventJson({ ...base, subject: null, flag: true, count: 42, note: 'x' })
    expect(attributes).toEqual({ ...base, flag: 'true', count: '42', note: 'x' })
  })

  it('round-trips a signed record through its JSON form', () => {
    const record = sign(alice)
    const event = parseCloudEventJson(JSON.parse(Buffer.from(record.bytes).toString('utf8')))
    expect(verifyCloudEvent(event).signer).toBe(alice.peerId)
    expect(Buffer.from(event.data).equals(Buffer.from(DATA))).toBe(true)
  })

  it('refuses what is not a JSON-format CloudEvent with CDG_INVALID_CLOUDEVENT', () => {
    const bad: unknown[] = [
      null, 'event', [base], 42,
      { source: '/s', type: 't', specversion: '1.0' },
      { ...base, id: 1 },
      { ...base, data: {}, data_base64: 'AAAA' },
      { ...base, data_base64: 'AAA' },
      { ...base, data_base64: 7 },
      { ...base, Upper: 'x' },
      { ...base, ext: { nested: true } },
      { ...base, ext: 1.5 },
      { ...base, time: 12 },
      Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`a${i}`, 'x']))
    ]
    for (const value of bad) expectError(() => parseCloudEventJson(value), 'CDG_INVALID_CLOUDEVENT')
  })
})

describe('normalizeTime', () => {
  it.each([
    ['2020-06-18T17:24:53Z', '2020-06-18T17:24:53Z'],
    ['2020-06-18T19:24:53+02:00', '2020-06-18T17:24:53Z'],
    ['2020-06-18t17:24:53z', '2020-06-18T17:24:53Z'],
    ['2020-06-18T17:24:53.999999Z', '2020-06-18T17:24:53Z'],
    ['2020-06-18T00:30:00+01:00', '2020-06-17T23:30:00Z'],
    ['2020-12-31T23:30:00-01:00', '2021-01-01T00:30:00Z'],
    ['2024-02-29T12:00:00Z', '2024-02-29T12:00:00Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00Z'],
    ['0050-06-01T00:00:00Z', '0050-06-01T00:00:00Z']
  ])('%s -> %s', (input, expected) => {
    expect(normalizeTime(input)).toBe(expected)
  })

  it.each([
    '', '2020-06-18', '2020-06-18T17:24:53', '2020-06-18 17:24:53Z', '2020-06-18T17:24Z',
    '2023-02-29T00:00:00Z', '2020-13-01T00:00:00Z', '2020-06-31T00:00:00Z', '2020-06-18T24:00:00Z',
    '2020-06-18T17:60:00Z', '2020-06-18T17:24:60Z', '2020-06-18T17:24:53+24:00', '2020-06-18T17:24:53.Z',
    '0000-01-01T00:30:00+01:00', '9999-12-31T23:30:00-01:00', `2020-06-18T17:24:53.${'1'.repeat(40)}Z`,
    '２０２０-06-18T17:24:53Z'
  ])('refuses %j', (input) => {
    expect(normalizeTime(input)).toBeUndefined()
  })
})

it('keeps verification independent of JSON re-serialisation for records (data_base64 is verbatim)', () => {
  const pretty = encoder.encode('{\n  "hello" : "world"\n}')
  const record = sign(alice, {}, pretty)
  expect(Buffer.from(fieldsOf(record).data_base64, 'base64').toString()).toBe('{\n  "hello" : "world"\n}')
})
