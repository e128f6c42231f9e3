import { createHash } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { beforeAll, describe, expect, it } from 'vitest'
import { MAX_RECORD_BYTES, openSignedRecord, signCloudEvent, verifyCloudEvent } from '../../src/signing/index.js'
import type { Signer } from '../../src/signing/index.js'
import type { RecordFields } from '../../src/signing/record.js'
import { ATTRIBUTES, DATA, decoder, encoder, envelopeOf, expectError, fieldsOf, newSigner, reencode, sign, toDssematerial } from './fixtures.js'

let alice: Signer
let bob: Signer

beforeAll(async () => {
  alice = await newSigner()
  bob = await newSigner()
})

describe('signCloudEvent', () => {
  it('writes the fixed member order with data verbatim in data_base64', () => {
    const record = sign(alice, {}, DATA, 42)
    const text = decoder.decode(record.bytes)
    expect(Object.keys(JSON.parse(text))).toEqual([
      'specversion', 'id', 'source', 'type', 'subject', 'time', 'datacontenttype', 'dataschema',
      'sequence', 'signedextattrs', 'dssematerial', 'data_base64'
    ])
    const fields = fieldsOf(record)
    expect(fields.sequence).toBe('0000000000000042')
    expect(fields.signedextattrs).toBe('sequence')
    expect(Buffer.from(fields.data_base64, 'base64').equals(Buffer.from(DATA))).toBe(true)
    expect(record.digest).toBe(createHash('sha256').update(record.bytes).digest('hex'))
    expect(record.origin).toBe(alice.peerId)
    expect(record.sequence).toBe(42)
    expect(record.attributes.sequence).toBe('0000000000000042')
    expect(Buffer.from(record.data).equals(Buffer.from(DATA))).toBe(true)
  })

  it('omits unset optional attributes', () => {
    const { subject, time, dataschema, ...required } = ATTRIBUTES
    const record = signCloudEvent({ attributes: required, data: DATA, sequence: 1 }, alice)
    expect(Object.keys(fieldsOf(record))).toEqual(['specversion', 'id', 'source', 'type', 'datacontenttype', 'sequence', 'signedextattrs', 'dssematerial', 'data_base64'])
    expect(record.attributes).not.toHaveProperty('subject')
    expect(openSignedRecord(record.bytes).digest).toBe(record.digest)
    void subject; void time; void dataschema
  })

  it('writes one DSSE signature whose keyid is the signer peer ID', () => {
    const envelope = envelopeOf(sign(alice).attributes.dssematerial)
    expect(Object.keys(envelope)).toEqual(['payloadType', 'payload', 'signatures'])
    expect(envelope.payloadType).toBe('https://cloudevents.io/verifiability/dsse/v0.1')
    expect(Buffer.from(envelope.payload, 'base64')).toHaveLength(32)
    expect(envelope.signatures).toHaveLength(1)
    expect(envelope.signatures[0]?.keyid).toBe(alice.peerId)
  })

  it('is deterministic: the same input gives the same bytes', () => {
    expect(sign(alice).digest).toBe(sign(alice).digest)
    expect(sign(alice).digest).not.toBe(sign(bob).digest)
  })

  it('keeps its own copy of the data, also when given a view into a shared Buffer', () => {
    // Buffer.from of a short string is a slice of Node's shared pool, and Buffer#slice is a view
    const data = Buffer.from(decoder.decode(DATA), 'utf8')
    const record = sign(alice, {}, data)
    data.fill(0x20)
    expect(Buffer.from(record.data).equals(Buffer.from(DATA))).toBe(true)
    expect(openSignedRecord(record.bytes).data).toEqual(record.data)
  })

  it('refuses attributes that would not make a valid record', () => {
    const bad: Array<Partial<Record<keyof typeof ATTRIBUTES, unknown>>> = [
      { specversion: '0.3' }, { id: '' }, { source: '' }, { type: '' }, { datacontenttype: undefined },
      { subject: '' }, { time: 'yesterday' }, { time: '2023-02-30T00:00:00Z' }, { time: '2023-03-20T14:27:05' },
      { id: 'a\nb' }, { id: 'lone \ud800 surrogate' }, { source: 42 }
    ]
    for (const overrides of bad) {
      expectError(() => sign(alice, overrides as Partial<typeof ATTRIBUTES>), 'CDG_INVALID_CLOUDEVENT')
    }
  })

  it('refuses sequence numbers that are not safe integers >= 1', () => {
    for (const sequence of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN]) {
      expectError(() => sign(alice, {}, DATA, sequence), 'CDG_INVALID_CLOUDEVENT')
    }
    expect(openSignedRecord(sign(alice, {}, DATA, Number.MAX_SAFE_INTEGER).bytes).sequence).toBe(Number.MAX_SAFE_INTEGER)
  })

  it('refuses a record over MAX_RECORD_BYTES', () => {
    expectError(() => sign(alice, {}, new Uint8Array(MAX_RECORD_BYTES)), 'CDG_EVENT_TOO_LARGE')
    // data that fits alone but not with the envelope and attributes around it
    expectError(() => sign(alice, {}, new Uint8Array(Math.floor(MAX_RECORD_BYTES / 4) * 3 - 3)), 'CDG_EVENT_TOO_LARGE')
  })

  it('refuses a signer whose peer ID is not its key', () => {
    expect(() => signCloudEvent({ attributes: ATTRIBUTES, data: DATA, sequence: 1 }, { privateKey: alice.privateKey, peerId: bob.peerId })).toThrow()
  })
})

describe('openSignedRecord', () => {
  it('round-trips: same bytes, digest, attributes, data, origin and sequence', () => {
    const record = sign(alice, {}, DATA, 7)
    const opened = openSignedRecord(record.bytes)
    expect(Buffer.from(opened.bytes).equals(Buffer.from(record.bytes))).toBe(true)
    expect(opened.digest).toBe(record.digest)
    expect(opened.attributes).toEqual(record.attributes)
    expect(Buffer.from(opened.data).equals(Buffer.from(DATA))).toBe(true)
    expect(opened.origin).toBe(alice.peerId)
    expect(opened.sequence).toBe(7)
  })

  it('keeps its own copy of the bytes', () => {
    const bytes = sign(alice).bytes.slice()
    const opened = openSignedRecord(bytes)
    bytes[0] = 0x20
    expect(openSignedRecord(opened.bytes).digest).toBe(opened.digest)
  })

  it('accepts a record signed by any Ed25519 peer and reports it as origin (trust is decided elsewhere)', () => {
    expect(openSignedRecord(sign(bob).bytes).origin).toBe(bob.peerId)
  })

  describe('refuses tampered values with CDG_BAD_SIGNATURE (material-mismatch)', () => {
    const changes: Array<[string, (f: RecordFields) => void]> = [
      ['id', f => { f.id = 'another-id' }],
      ['source', f => { f.source = '/another/source' }],
      ['type', f => { f.type = 'dev.cdevents.pipelinerun.started.0.2.0' }],
      ['subject', f => { f.subject = 'otherSubject' }],
      ['subject removed', f => { delete f.subject }],
      ['time', f => { f.time = '2023-03-20T14:27:06Z' }],
      ['datacontenttype', f => { f.datacontenttype = 'text/plain' }],
      ['dataschema', f => { f.dataschema = 'https://example.com/other' }],
      ['sequence', f => { f.sequence = '0000000000000002' }],
      ['one data byte', f => {
        const data = Buffer.from(f.data_base64, 'base64')
        data[10] = (data[10] ?? 0) ^ 0x01
        f.data_base64 = data.toString('base64')
      }]
    ]
    it.each(changes)('%s', (_name, change) => {
      const fields = fieldsOf(sign(alice))
      change(fields)
      expectError(() => openSignedRecord(reencode(fields)), 'CDG_BAD_SIGNATURE', 'material-mismatch')
    })
  })

  it('accepts the same instant written with another offset (time is signed normalised to UTC)', () => {
    const fields = fieldsOf(sign(alice, { time: '2023-03-20T14:27:05Z' }))
    fields.time = '2023-03-20T16:27:05+02:00'
    expect(openSignedRecord(reencode(fields)).origin).toBe(alice.peerId)
  })

  it('refuses a signature moved to another peer keyid (bad-signature)', () => {
    const fields = fieldsOf(sign(alice))
    const envelope = envelopeOf(fields.dssematerial)
    envelope.signatures[0] = { keyid: bob.peerId, sig: envelope.signatures[0]?.sig ?? '' }
    fields.dssematerial = toDssematerial(envelope)
    expectError(() => openSignedRecord(reencode(fields)), 'CDG_BAD_SIGNATURE', 'bad-signature')
  })

  it('refuses a keyid that is not an Ed25519 peer ID (bad-keyid)', async () => {
    const secp = await generateKeyPair('secp256k1')
    const keyids = [peerIdFromPrivateKey(secp).toString(), 'testkey', '', alice.peerId.toLowerCase()]
    for (const keyid of keyids) {
      const fields = fieldsOf(sign(alice))
      const envelope = envelopeOf(fields.dssematerial)
      envelope.signatures[0] = { keyid, sig: envelope.signatures[0]?.sig ?? '' }
      fields.dssematerial = toDssematerial(envelope)
      expectError(() => openSignedRecord(reencode(fields)), 'CDG_BAD_SIGNATURE', 'bad-keyid')
    }
  })

  it('refuses a whole dssematerial swapped in from another event (material-mismatch)', () => {
    const fields = fieldsOf(sign(alice))
    fields.dssematerial = sign(alice, { id: 'other' }).attributes.dssematerial
    expectError(() => openSignedRecord(reencode(fields)), 'CDG_BAD_SIGNATURE', 'material-mismatch')
  })

  it('refuses an envelope that is not exactly the one cdgossip writes (bad-envelope)', () => {
    const record = sign(alice)
    const envelope = envelopeOf(record.attributes.dssematerial)
    const [signature] = envelope.signatures
    const variants = [
      // same content, other member order
      Buffer.from(JSON.stringify({ payload: envelope.payload, payloadType: envelope.payloadType, signatures: envelope.signatures })).toString('base64'),
      // same content, pretty-printed
      Buffer.from(JSON.stringify(envelope, null, 1)).toString('base64'),
      // a second (valid) signature
      toDssematerial({ ...envelope, signatures: [signature, signature] }),
      // an extra member
      toDssematerial({ ...envelope, extra: 1 })
    ]
    for (const dssematerial of variants) {
      const fields = fieldsOf(record)
      fields.dssematerial = dssematerial
      expectError(() => openSignedRecord(reencode(fields)), 'CDG_BAD_SIGNATURE', 'bad-envelope')
    }
  })

  it('refuses every other spelling of the envelope it would accept (bad-envelope)', () => {
    // a signature with a + or / in it, so that its URL-safe spelling differs (~94 % of them have one)
    const sigOf = (r: ReturnType<typeof sign>): string => envelopeOf(r.attributes.dssematerial).signatures[0]?.sig ?? ''
    let record = sign(alice)
    for (let i = 0; !/[+/]/.test(sigOf(record)); i++) record = sign(alice, { id: `url-safe-${i}` })
    const text = Buffer.from(record.attributes.dssematerial, 'base64').toString('utf8')
    const { payload } = envelopeOf(record.attributes.dssematerial)
    const sig = sigOf(record)
    expect(text).toContain(`"sig":"${sig}"`)
    // the last letter before the padding, with low bits the decoder drops set: the same bytes
    const dirtyPadding = (b64: string): string => {
      const body = b64.replace(/=+$/, '')
      const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
      return body.slice(0, -1) + letters.charAt(letters.indexOf(body.slice(-1)) | 1) + b64.slice(body.length)
    }
    expect(Buffer.from(dirtyPadding(sig), 'base64')).toEqual(Buffer.from(sig, 'base64'))
    const urlSafe = Buffer.from(sig, 'base64').toString('base64url')
    const spellings = [
      text.replace(`"sig":"${sig}"`, `"sig":"${sig.replace(/=+$/, '')}"`),
      text.replace(`"sig":"${sig}"`, `"sig":"${urlSafe}"`),
      text.replace(`"sig":"${sig}"`, `"sig":"${dirtyPadding(sig)}"`),
      text.replace(`"payload":"${payload}"`, `"payload":"${dirtyPadding(payload)}"`),
      text.replace(`"payload":"${payload}"`, `"payload":"${payload.replace(/=+$/, '')}"`),
      // JSON escapes that JSON.stringify would not write
      text.replace('https://', 'https:\\/\\/'),
      text.replace(`"keyid":"${alice.peerId}"`, `"keyid":"\\u00${alice.peerId.charCodeAt(0).toString(16)}${alice.peerId.slice(1)}"`),
      text.replace('"sig":', '"sig" :')
    ]
    expect(urlSafe).not.toBe(sig.replace(/=+$/, ''))
    for (const spelling of spellings) {
      expect(spelling).not.toBe(text)
      const fields = fieldsOf(record)
      fields.dssematerial = Buffer.from(spelling, 'utf8').toString('base64')
      expectError(() => openSignedRecord(reencode(fields)), 'CDG_BAD_SIGNATURE', 'bad-envelope')
    }
    // and the spelling cdgossip writes still opens
    expect(openSignedRecord(record.bytes).origin).toBe(alice.peerId)
  })

  it('refuses a wrong payloadType even when correctly signed', () => {
    const fields = fieldsOf(sign(alice))
    const envelope = envelopeOf(fields.dssematerial)
    envelope.payloadType = 'application/vnd.cloudevents+json'
    fields.dssematerial = toDssematerial(envelope)
    expectError(() => openSignedRecord(reencode(fields)), 'CDG_BAD_SIGNATURE', 'wrong-payload-type')
  })

  describe('refuses malformed records with CDG_INVALID_CLOUDEVENT', () => {
    const text = (): string => decoder.decode(sign(alice).bytes)
    const edits: Array<[string, () => Uint8Array]> = [
      ['dropped dssematerial', () => { const f = fieldsOf(sign(alice)) as Partial<RecordFields>; delete f.dssematerial; return encoder.encode(JSON.stringify(f)) }],
      ['dropped sequence', () => { const f = fieldsOf(sign(alice)) as Partial<RecordFields>; delete f.sequence; return encoder.encode(JSON.stringify(f)) }],
      ['dropped data_base64', () => { const f = fieldsOf(sign(alice)) as Partial<RecordFields>; delete f.data_base64; return encoder.encode(JSON.stringify(f)) }],
      ['garbage dssematerial base64', () => reencode({ ...fieldsOf(sign(alice)), dssematerial: 'not base64!' })],
      ['unpadded dssematerial', () => { const f = fieldsOf(sign(alice)); return reencode({ ...f, dssematerial: f.dssematerial.replace(/=+$/, '') }) }],
      ['url-safe data_base64', () => reencode({ ...fieldsOf(sign(alice, {}, new Uint8Array([0xfb, 0xff]))), data_base64: '-_8=' })],
      ['junk character in data_base64', () => reencode({ ...fieldsOf(sign(alice, {}, encoder.encode('ABCDEF'))), data_base64: 'QUJD*REV' })],
      ['space in data_base64', () => reencode({ ...fieldsOf(sign(alice, {}, encoder.encode('ABCDEF'))), data_base64: 'QUJD REV' })],
      ['padding inside data_base64', () => reencode({ ...fieldsOf(sign(alice, {}, encoder.encode('ABCDEF'))), data_base64: 'QQ==QUJD' })],
      ['non-zero padding bits in data_base64', () => { const f = fieldsOf(sign(alice, {}, encoder.encode('A'))); return reencode({ ...f, data_base64: 'QR==' }) }],
      ['extra member', () => encoder.encode(text().replace(/}$/, ',"extra":"x"}'))],
      ['extra member data', () => encoder.encode(text().replace(/}$/, ',"data":{}}'))],
      ['reordered members', () => { const f = fieldsOf(sign(alice)); const { specversion, ...rest } = f; return encoder.encode(JSON.stringify({ ...rest, specversion })) }],
      ['whitespace', () => encoder.encode(JSON.stringify(fieldsOf(sign(alice)), null, 1))],
      ['trailing newline', () => encoder.encode(text() + '\n')],
      ['escaped letter', () => encoder.encode(text().replace('"id":"2', '"id":"\\u0032'))],
      ['duplicate member', () => encoder.encode(text().replace('{"specversion":"1.0",', '{"specversion":"1.0","specversion":"1.0",'))],
      ['number instead of string', () => encoder.encode(text().replace('"sequence":"0000000000000001"', '"sequence":1'))],
      ['sequence zero', () => reencode({ ...fieldsOf(sign(alice)), sequence: '0000000000000000' })],
      ['sequence 15 digits', () => reencode({ ...fieldsOf(sign(alice)), sequence: '000000000000001' })],
      ['sequence above 2^53', () => reencode({ ...fieldsOf(sign(alice)), sequence: '9999999999999999' })],
      ['sequence with sign', () => reencode({ ...fieldsOf(sign(alice)), sequence: '+000000000000001' })],
      ['signedextattrs empty', () => reencode({ ...fieldsOf(sign(alice)), signedextattrs: '' })],
      ['signedextattrs other', () => reencode({ ...fieldsOf(sign(alice)), signedextattrs: 'sequence,subject' })],
      ['specversion 0.3', () => reencode({ ...fieldsOf(sign(alice)), specversion: '0.3' })],
      ['empty subject', () => reencode({ ...fieldsOf(sign(alice)), subject: '' })],
      ['bad time', () => reencode({ ...fieldsOf(sign(alice)), time: '2023-03-20 14:27:05Z' })],
      ['control character', () => reencode({ ...fieldsOf(sign(alice)), id: 'a\u0007b' })],
      ['array', () => encoder.encode('[' + text() + ']')],
      ['JSON string', () => encoder.encode(JSON.stringify(text()))],
      ['not JSON', () => encoder.encode('specversion=1.0')],
      ['empty', () => new Uint8Array(0)],
      ['invalid UTF-8', () => { const b = sign(alice).bytes.slice(); b[20] = 0xff; return b }],
      ['byte order mark', () => new Uint8Array([0xef, 0xbb, 0xbf, ...sign(alice).bytes])]
    ]
    it.each(edits)('%s', (_name, make) => {
      expectError(() => openSignedRecord(make()), 'CDG_INVALID_CLOUDEVENT')
    })
  })

  it('opens attribute values JSON must escape in JSON.stringify spelling, and only in that spelling', () => {
    // a quote, a backslash and a non-BMP character (a surrogate pair), each in a member of its own
    const record = sign(alice, { subject: 'say "hi"', id: 'C:\\build\\42', source: '/ci/\u{1F680}/job' })
    const text = decoder.decode(record.bytes)
    expect(text).toContain('"subject":"say \\"hi\\""')
    expect(openSignedRecord(record.bytes).digest).toBe(record.digest)
    const respellings = [
      text.replace('say \\"hi\\"', 'say \\u0022hi\\u0022'),
      text.replace('C:\\\\build', 'C:\\u005cbuild'),
      text.replace('/ci/\u{1F680}/', '/ci/\\ud83d\\ude80/'),
      text.replace('"source":"/ci/', '"source":"\\/ci/')
    ]
    for (const respelled of respellings) {
      expect(respelled).not.toBe(text)
      expect(JSON.parse(respelled)).toEqual(JSON.parse(text))
      expectError(() => openSignedRecord(encoder.encode(respelled)), 'CDG_INVALID_CLOUDEVENT')
    }
  })

  it('refuses oversize bytes with CDG_EVENT_TOO_LARGE before parsing them', () => {
    expectError(() => openSignedRecord(new Uint8Array(MAX_RECORD_BYTES + 1)), 'CDG_EVENT_TOO_LARGE')
    const record = sign(alice)
    expectError(() => openSignedRecord(record.bytes, { maxBytes: record.bytes.byteLength - 1 }), 'CDG_EVENT_TOO_LARGE')
    expect(openSignedRecord(record.bytes, { maxBytes: record.bytes.byteLength }).digest).toBe(record.digest)
  })

  it('gives the generic verifier the same answer as the record path', () => {
    const record = sign(alice, {}, DATA, 3)
    const { data_base64: dataBase64, ...attributes } = fieldsOf(record)
    const result = verifyCloudEvent({ attributes: { ...attributes }, data: Buffer.from(dataBase64, 'base64') })
    expect(result).toEqual({ signer: alice.peerId, signedExtensions: { sequence: '0000000000000003' } })
  })
})
