import { beforeAll, describe, expect, it } from 'vitest'
import { Worker } from 'node:worker_threads'
import type { KeyObject } from 'node:crypto'
import { VerifyPool, decodeDsseMaterial, inlineVerifier, openSignedRecord, openSignedRecordWith, pae } from '../../src/signing/index.js'
import { ed25519KeyFromPeerId } from '../../src/signing/keys.js'
import type { SignatureVerifier, Signer } from '../../src/signing/index.js'
import { envelopeOf, fieldsOf, newSigner, reencode, sign, toDssematerial } from './fixtures.js'
import { isCdgossipError } from '../../src/errors.js'
import { MAX_FRAME_RECORDS } from '../../src/p2p/record-frame.js'
import { RECORD_WINDOW } from '../../src/p2p/sync/sync-client.js'

let alice: Signer
let bob: Signer

beforeAll(async () => {
  alice = await newSigner()
  bob = await newSigner()
})

/** A verifier that counts what reaches it. */
function counting (inner: SignatureVerifier): SignatureVerifier & { calls: number } {
  const verifier = {
    calls: 0,
    async verify (...args: Parameters<SignatureVerifier['verify']>) {
      verifier.calls++
      return await inner.verify(...args)
    }
  }
  return verifier
}

async function reasonOf (promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
  } catch (err) {
    expect(isCdgossipError(err)).toBe(true)
    return (err as { details?: { reason?: string } }).details?.reason
  }
  return undefined
}

function movedToBob (): Uint8Array {
  const fields = fieldsOf(sign(alice))
  const envelope = envelopeOf(fields.dssematerial)
  envelope.signatures[0] = { keyid: bob.peerId, sig: envelope.signatures[0]?.sig ?? '' }
  fields.dssematerial = toDssematerial(envelope)
  return reencode(fields)
}

describe('openSignedRecordWith a worker pool', () => {
  it('opens genuine records exactly as openSignedRecord does, and refuses forged ones', async () => {
    // small batches too, so that both workers get several
    const pool = new VerifyPool(2, { minBatch: 8 })
    const records = Array.from({ length: 600 }, (_, i) => sign(i % 2 === 0 ? alice : bob, { id: `event-${i}` }, undefined, i + 1))
    const forged = Array.from({ length: 300 }, () => movedToBob())
    // all at once: several batches, two workers
    const opened = await Promise.all(records.map(async (r) => openSignedRecordWith(r.bytes, pool)))
    const refused = await Promise.all(forged.map(async (bytes) => reasonOf(openSignedRecordWith(bytes, pool))))
    opened.forEach((o, i) => {
      const expected = openSignedRecord((records[i] as { bytes: Uint8Array }).bytes)
      expect(o.digest).toBe(expected.digest)
      expect(o.origin).toBe(expected.origin)
      expect(o.sequence).toBe(i + 1)
    })
    expect(new Set(refused)).toEqual(new Set(['bad-signature']))
    expect(pool.batchesSent).toBeGreaterThanOrEqual(4)
  })

  it('asks the verifier only once every other check passed', async () => {
    const verifier = counting(inlineVerifier)
    const fields = fieldsOf(sign(alice))
    fields.id = 'another-id'
    expect(await reasonOf(openSignedRecordWith(reencode(fields), verifier))).toBe('material-mismatch')
    expect(await reasonOf(openSignedRecordWith(new TextEncoder().encode('{"not":"a record"}'), verifier))).toBeUndefined()
    expect(verifier.calls).toBe(0)
    await openSignedRecordWith(sign(alice).bytes, verifier)
    expect(verifier.calls).toBe(1)
  })

  it('verifies a turn with few requests on the calling thread and a burst on the workers and its share here, with the same verdicts', async () => {
    const pool = new VerifyPool(1, { minBatch: 8 })
    const record = openSignedRecord(sign(alice).bytes)
    const { publicKey, message, signature } = signatureParts(record.attributes.dssematerial, alice)
    const flipped = Uint8Array.from(signature)
    flipped[1] = (flipped[1] as number) ^ 1
    expect(await Promise.all([pool.verify(publicKey, message, signature), pool.verify(publicKey, message, flipped)])).toEqual([true, false])
    expect(pool.batchesSent).toBe(0)
    const burst = Array.from({ length: 10 }, (_, i) => i % 2 === 0 ? signature : flipped)
    expect(await Promise.all(burst.map(async (sig) => pool.verify(publicKey, message, sig)))).toEqual(burst.map((_, i) => i % 2 === 0))
    expect(pool.batchesSent).toBe(1)
    // the calling thread took its share of the burst (half, beside one worker): both cores verified
    expect(pool.verifiedHere).toBe(2 + 5)

    const workersOnly = new VerifyPool(1, { minBatch: 8, callerShare: 0 })
    expect(await Promise.all(burst.map(async (sig) => workersOnly.verify(publicKey, message, sig)))).toEqual(burst.map((_, i) => i % 2 === 0))
    expect(workersOnly.verifiedHere).toBe(0)
    expect(() => new VerifyPool(1, { callerShare: 1 })).toThrow(RangeError)
  })

  it('by default verifies a gossip frame on the calling thread and sends a sync window to the workers', async () => {
    const pool = new VerifyPool(1)
    // one full frame, the most a turn of gossip holds unless the main thread has fallen behind
    expect(await verifyInOneTurn(pool, MAX_FRAME_RECORDS)).toEqual(new Array(MAX_FRAME_RECORDS).fill(true))
    expect(pool.batchesSent).toBe(0)
    expect(pool.verifiedHere).toBe(MAX_FRAME_RECORDS)
    // a window of a sync page: the worker verifies its part while this thread verifies the rest
    expect(await verifyInOneTurn(pool, RECORD_WINDOW)).toEqual(new Array(RECORD_WINDOW).fill(true))
    expect(pool.batchesSent).toBe(1)
    expect(pool.verifiedHere).toBe(MAX_FRAME_RECORDS + RECORD_WINDOW / 2)
  })

  it('splits a burst evenly between the calling thread and every worker', async () => {
    const pool = new VerifyPool(3)
    const burst = await verifyInOneTurn(pool, RECORD_WINDOW)
    expect(burst).toEqual(new Array(RECORD_WINDOW).fill(true))
    // a quarter here, and a quarter for each of the three workers: not three quarters for one
    expect(pool.verifiedHere).toBe(RECORD_WINDOW / 4)
    expect(pool.batchesSent).toBe(3)
  })

  it('verifies on the calling thread when a worker dies with batches in hand, and starts a fresh one for the next batch', async () => {
    let started = 0
    // a worker that exits at once, before answering anything
    const pool = new VerifyPool(1, { minBatch: 1, startWorker: () => { started++; return new Worker('process.exit(3)', { eval: true }) } })
    const record = openSignedRecord(sign(alice).bytes)
    const { publicKey, message, signature } = signatureParts(record.attributes.dssematerial, alice)
    const flipped = Uint8Array.from(signature)
    flipped[2] = (flipped[2] as number) ^ 1
    expect(await Promise.all([pool.verify(publicKey, message, signature), pool.verify(publicKey, message, flipped)])).toEqual([true, false])
    expect(await pool.verify(publicKey, message, signature)).toBe(true)
    expect(started).toBe(2)
    expect(pool.batchesSent).toBe(2)
  })

  it('answers false for a short or altered signature', async () => {
    // every request through a worker, however few
    const pool = new VerifyPool(1, { minBatch: 1 })
    const record = openSignedRecord(sign(alice).bytes)
    const { publicKey, message, signature } = signatureParts(record.attributes.dssematerial, alice)
    expect(await pool.verify(publicKey, message, signature)).toBe(true)
    expect(await pool.verify(publicKey, message, signature.subarray(0, 63))).toBe(false)
    const flipped = Uint8Array.from(signature)
    flipped[0] = (flipped[0] as number) ^ 1
    expect(await pool.verify(publicKey, message, flipped)).toBe(false)
    expect(pool.batchesSent).toBe(2)
  })
})

/** `count` requests for one genuine signature of alice's, all made in the same turn. */
async function verifyInOneTurn (pool: VerifyPool, count: number): Promise<boolean[]> {
  const record = openSignedRecord(sign(alice).bytes)
  const { publicKey, message, signature } = signatureParts(record.attributes.dssematerial, alice)
  return await Promise.all(Array.from({ length: count }, async () => await pool.verify(publicKey, message, signature)))
}

function signatureParts (dssematerial: string, signer: Signer): { publicKey: KeyObject, message: Uint8Array, signature: Uint8Array } {
  const envelope = decodeDsseMaterial(dssematerial)
  const publicKey = ed25519KeyFromPeerId(signer.peerId)
  if (publicKey === undefined) throw new Error('not an Ed25519 peer ID')
  return { publicKey, message: pae(envelope.payloadType, envelope.payload), signature: envelope.signatures[0]?.sig as Uint8Array }
}
