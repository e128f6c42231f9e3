import { describe, expect, it } from 'vitest'
import { coalesce } from '../../../src/p2p/sync/stream-adapter.js'

async function * from (parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield part
}

async function collect (source: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for await (const chunk of source) out.push(chunk)
  return out
}

const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill)

describe('coalesce', () => {
  it('joins small pieces into chunks of at most maxBytes, keeping every byte in order', async () => {
    const parts = Array.from({ length: 100 }, (_, i) => bytes(1 + (i % 7), i))
    const chunks = await collect(coalesce(from(parts), 64))
    expect(chunks.length).toBeLessThan(parts.length / 4)
    for (const chunk of chunks) expect(chunk.byteLength).toBeLessThanOrEqual(64)
    expect(Buffer.concat(chunks).equals(Buffer.concat(parts))).toBe(true)
  })

  it('sends a piece larger than maxBytes alone, after what came before it', async () => {
    const chunks = await collect(coalesce(from([bytes(10, 1), bytes(200, 2), bytes(5, 3)]), 64))
    expect(chunks.map((c) => c.byteLength)).toEqual([10, 200, 5])
  })

  it('yields nothing for nothing', async () => {
    expect(await collect(coalesce(from([]), 64))).toEqual([])
  })
})
