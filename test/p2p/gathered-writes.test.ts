import { describe, expect, it } from 'vitest'
import type { Uint8ArrayList } from 'uint8arraylist'
import { gatherReady } from '../../src/p2p/gathered-writes.js'

/** A source fed by the test: pieces pushed before a pull wait in a queue, like a muxer's. */
class Feed implements AsyncIterable<Uint8Array> {
  private readonly queue: Array<IteratorResult<Uint8Array> | Error> = []
  private waiter: ((item: IteratorResult<Uint8Array> | Error) => void) | undefined
  returned = false

  push (piece: Uint8Array): void { this.offer({ done: false, value: piece }) }
  end (): void { this.offer({ done: true, value: undefined }) }
  fail (err: Error): void { this.offer(err) }

  private offer (item: IteratorResult<Uint8Array> | Error): void {
    const waiter = this.waiter
    this.waiter = undefined
    if (waiter !== undefined) waiter(item)
    else this.queue.push(item)
  }

  [Symbol.asyncIterator] (): AsyncIterator<Uint8Array> {
    return {
      next: async () => {
        const item = this.queue.shift() ?? await new Promise<IteratorResult<Uint8Array> | Error>(resolve => { this.waiter = resolve })
        if (item instanceof Error) throw item
        return item
      },
      return: async () => {
        this.returned = true
        return { done: true, value: undefined }
      }
    }
  }
}

const piece = (byte: number, length: number): Uint8Array => new Uint8Array(length).fill(byte)
const bytesOf = (chunk: Uint8Array | Uint8ArrayList): Uint8Array => chunk instanceof Uint8Array ? chunk : chunk.subarray()

describe('gatherReady', () => {
  it('joins the pieces already waiting into one chunk, in order and byte for byte', async () => {
    const feed = new Feed()
    for (let i = 1; i <= 5; i++) feed.push(piece(i, 10))
    const gathered = gatherReady(feed)
    const first = await gathered.next()
    expect(first.done).toBe(false)
    expect(Array.from(bytesOf(first.value as Uint8Array))).toEqual([1, 2, 3, 4, 5].flatMap(i => Array(10).fill(i)))
  })

  it('passes a lone piece on while the source stays open, and the next pieces in a later chunk', async () => {
    const feed = new Feed()
    const gathered = gatherReady(feed)
    feed.push(piece(7, 3))
    expect(Array.from(bytesOf((await gathered.next()).value as Uint8Array))).toEqual([7, 7, 7])
    feed.push(piece(8, 2))
    feed.push(piece(9, 1))
    expect(Array.from(bytesOf((await gathered.next()).value as Uint8Array))).toEqual([8, 8, 9])
    feed.end()
    expect((await gathered.next()).done).toBe(true)
  })

  it('stops a chunk once it reaches maxBytes; a piece above it goes alone', async () => {
    const feed = new Feed()
    const sizes = [400, 400, 400, 2000, 100, 100]
    sizes.forEach((size, i) => { feed.push(piece(i, size)) })
    feed.end()
    const chunks: number[] = []
    for await (const chunk of gatherReady(feed, 1000)) chunks.push(chunk.byteLength)
    expect(chunks).toEqual([800, 400, 2000, 200])
  })

  it('hands on what it gathered and then the source\'s error', async () => {
    const feed = new Feed()
    feed.push(piece(1, 4))
    feed.fail(new Error('connection reset'))
    const gathered = gatherReady(feed)
    expect((await gathered.next()).value?.byteLength).toBe(4)
    await expect(gathered.next()).rejects.toThrow('connection reset')
  })

  it('stops the source when its consumer stops early', async () => {
    const feed = new Feed()
    feed.push(piece(1, 4))
    for await (const chunk of gatherReady(feed)) {
      expect(chunk.byteLength).toBe(4)
      break
    }
    expect(feed.returned).toBe(true)
  })
})
