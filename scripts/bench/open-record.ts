import '../../src/polyfill.js'
import { hash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { encodeCDEventData, toCloudEventAttributes } from '../../src/events/index.js'
import { computeVerificationMaterial, openSignedRecordWith, signCloudEvent } from '../../src/signing/index.js'
import type { SignatureVerifier } from '../../src/signing/index.js'
import { decodeDsseMaterial } from '../../src/signing/dsse.js'
import { cpuPerItemUs, fastestPass } from './floor.js'
import { round } from './stats.js'
import { Workload } from './workload.js'
import { exitWith, integerOption, scriptArgs } from './script-args.js'

/**
 * What opening a received record costs on the calling thread besides its Ed25519 check, and its
 * main steps, in µs of process CPU per record on records of the bench workload (the fastest of
 * several passes): `node dist/scripts/bench/open-record.js [--records N]`. The signature check
 * is the floor's verify; everything measured here is the signed format's decoding around it.
 */

const USAGE = `usage: node dist/scripts/bench/open-record.js [options]
  --records N   records opened per pass (default 4000)`

/** Says every signature is valid at once: what is left is the opening itself. */
const ACCEPT_ALL: SignatureVerifier = { verify: async () => true }

const PASSES = 9

async function main (): Promise<void> {
  const values = scriptArgs(USAGE, { records: { type: 'string' } })
  const n = integerOption(values.records, '--records', 4000, 10)
  const privateKey = await generateKeyPair('Ed25519')
  const signer = { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() }
  const workload = new Workload({ idPrefix: `open-${Date.now().toString(36)}` })
  const records = workload.take(n).map((cdevent, i) =>
    signCloudEvent({ attributes: toCloudEventAttributes(cdevent), data: encodeCDEventData(cdevent), sequence: i + 1 }, signer))
  const texts = records.map(r => Buffer.from(r.bytes).toString('utf8'))

  const openUs = await fastestPass(PASSES, async () => {
    const before = process.cpuUsage()
    for (const r of records) await openSignedRecordWith(r.bytes, ACCEPT_ALL)
    const used = process.cpuUsage(before)
    return round((used.user + used.system) / n, 2)
  })
  const steps: Array<[string, number]> = [
    ['JSON.parse of the record text', await cpuPerItemUs(texts, t => JSON.parse(t))],
    ['its DSSE envelope (canonical)', await cpuPerItemUs(records, r => decodeDsseMaterial(r.attributes.dssematerial, { canonical: true }))],
    ['its verification material (digests)', await cpuPerItemUs(records, r =>
      computeVerificationMaterial(r.attributes, r.data, [['sequence', r.attributes.sequence]]))],
    ['sha256 of the record', await cpuPerItemUs(records, r => hash('sha256', r.bytes))]
  ]
  const bytes = Math.round(records.reduce((sum, r) => sum + r.bytes.byteLength, 0) / n)
  process.stdout.write(`opening a record without its signature check: ${openUs} µs (${n} records of ${bytes} B on average)\n`)
  for (const [step, us] of steps) process.stdout.write(`  of which ${step}: ${us} µs\n`)
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  exitWith(main(), USAGE)
}
