import { describe, expect, it } from 'vitest'
import { createPrivateKey, generateKeyPairSync, sign, verify } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { ED25519_LIBRARY, signEd25519, verifyEd25519 } from '../../src/signing/keys.js'

/** The group order L of Ed25519, little-endian as in a signature's S half. */
const L = (1n << 252n) + 27742317777372353535851937790883648493n

function toLittleEndian (n: bigint, bytes: number): Buffer {
  const out = Buffer.alloc(bytes)
  for (let i = 0; i < bytes; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn)
  return out
}

function fromLittleEndian (bytes: Uint8Array): bigint {
  let n = 0n
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i] as number)
  return n
}

function flipped (bytes: Uint8Array, at: number): Buffer {
  const copy = Buffer.from(bytes)
  copy[at] = (copy[at] as number) ^ 0x01
  return copy
}

describe('Ed25519 verification', () => {
  it('runs on libsodium where sodium-native ships a prebuilt addon', () => {
    // sodium-native 4.3.3 ships glibc builds for Linux on x64 and arm64 (and macOS, Windows, mobile)
    const header = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header
    const linuxBuild = process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64') && header?.glibcVersionRuntime !== undefined
    const prebuilt = linuxBuild || process.platform === 'darwin' || process.platform === 'win32'
    expect(ED25519_LIBRARY).toBe(prebuilt ? 'libsodium' : 'node:crypto')
  })

  it('gives node:crypto\'s verdict on genuine, altered and misattributed signatures', () => {
    for (let k = 0; k < 25; k++) {
      const { publicKey, privateKey } = generateKeyPairSync('ed25519')
      const other = generateKeyPairSync('ed25519')
      const message = Buffer.from(`DSSEv1 28 application/vnd.cdgossip.material 32 message ${k}`)
      const signature = sign(null, message, privateKey)
      const cases: Array<[Uint8Array, Uint8Array, typeof publicKey]> = [
        [message, signature, publicKey],
        [message, flipped(signature, k % 64), publicKey],
        [flipped(message, k % message.length), signature, publicKey],
        [message, signature, other.publicKey],
        [message, sign(null, message, other.privateKey), publicKey]
      ]
      for (const [m, s, key] of cases) expect(verifyEd25519(key, m, s)).toBe(verify(null, m, key, s))
      expect(verifyEd25519(publicKey, message, signature)).toBe(true)
    }
  })

  it('refuses the malleable twin of a signature (S + L) like node:crypto does', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519')
    const message = Buffer.from('one record, one signature')
    const signature = sign(null, message, privateKey)
    const s = fromLittleEndian(signature.subarray(32))
    const twin = Buffer.concat([signature.subarray(0, 32), toLittleEndian(s + L, 32)])
    expect(verify(null, message, publicKey, twin)).toBe(false)
    expect(verifyEd25519(publicKey, message, twin)).toBe(false)
  })
})

describe('Ed25519 signing', () => {
  it('writes the very bytes node:crypto writes for the same key and message (Ed25519 is deterministic)', async () => {
    for (let k = 0; k < 10; k++) {
      const privateKey = await generateKeyPair('Ed25519')
      const keyObject = createPrivateKey({
        format: 'jwk',
        key: { kty: 'OKP', crv: 'Ed25519', d: Buffer.from(privateKey.raw.subarray(0, 32)).toString('base64url'), x: Buffer.from(privateKey.publicKey.raw).toString('base64url') }
      })
      const message = Buffer.from(`message ${k}`)
      const signature = signEd25519(privateKey, peerIdFromPrivateKey(privateKey).toString(), message)
      expect(Buffer.from(signature).equals(sign(null, message, keyObject))).toBe(true)
    }
  })
})
