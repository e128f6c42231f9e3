/**
 * Standard base64 (RFC 4648 §4, with padding) in its one canonical spelling. Node's decoder is
 * lenient (skips junk, accepts missing padding, url-safe letters and non-zero trailing bits), so
 * several strings decode to the same bytes; for wire records that would let a relay change the
 * bytes (and the digest) without touching the signed content.
 */
export function encodeBase64 (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

/** The bytes of a canonical standard base64 string, or `undefined` when it is anything else. */
export function decodeBase64 (text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0) return undefined
  const bytes = Buffer.from(text, 'base64')
  // Node's encoder writes the one canonical spelling, so the round trip refuses everything else:
  // junk the decoder skipped, url-safe letters, misplaced padding, non-zero padding bits ("QR=="
  // and "QQ==" both decode to "A"). One linear pass each way, also on half a megabyte.
  if (bytes.toString('base64') !== text) return undefined
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

const BASE64_ANY_CHARS = /^(?:[A-Za-z0-9+/]*|[A-Za-z0-9_-]*)={0,2}$/

/**
 * Inside a DSSE envelope "either standard or URL-safe encoding is allowed" (DSSE envelope.md),
 * padded or not. Still one spelling per alphabet: junk and non-zero padding bits are refused.
 */
export function decodeBase64Dsse (text: string): Uint8Array | undefined {
  if (!BASE64_ANY_CHARS.test(text)) return undefined
  const urlSafe = /[-_]/.test(text)
  const unpadded = text.replace(/=+$/, '')
  if (text.length !== unpadded.length && text.length % 4 !== 0) return undefined
  if (unpadded.length % 4 === 1) return undefined
  const bytes = Buffer.from(unpadded, urlSafe ? 'base64url' : 'base64')
  const again = bytes.toString(urlSafe ? 'base64url' : 'base64').replace(/=+$/, '')
  if (again !== unpadded) return undefined
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
