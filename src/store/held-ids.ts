import type { Logger } from 'pino'

/**
 * Which (source, id) keys the store may hold, kept in memory so that an append of a new event
 * does not read the uniqueness index first. It is a Bloom filter: "no" is certain, "maybe" is
 * checked by the read as before. Nearly every append carries a new (source, id), so nearly every
 * append skips the read: publish and federation gained 4-14 % (BENCHMARKS.md, "Round 10").
 *
 * The filter is built when the store opens, by scanning the index in the background; until that
 * scan ends every key is a "maybe", so an append is as correct as before, only not faster. Keys
 * committed meanwhile are added by the write path, so none is missed whichever side of the
 * scan's snapshot it falls. Nothing is ever removed (the store deletes no record); a key
 * added twice only fills the filter a little sooner.
 */

/**
 * Bits per key at a layer's capacity, at least: with 7 probes, at most about 1 % false "maybe"s
 * when full. A layer's bits are rounded up to a power of two, so a layer has 10 to 20 bits a key:
 * a store of a million records holds 2–4 MiB of filter.
 */
const BITS_PER_KEY = 10
const PROBES = 7
/** The first layer's capacity in keys, at least: 64 Ki keys, 128 KiB. */
export const MIN_LAYER_KEYS = 65_536
/** Keys read per native call while scanning. */
const SCAN_CHUNK = 256

/**
 * One fixed-size filter. A full layer stays (its keys remain in it) and the next one, twice as
 * large, takes the new keys: the filter grows with the store without a rescan.
 */
class Layer {
  readonly capacity: number
  keys = 0
  private readonly bits: Uint32Array
  private readonly mask: number

  constructor (capacity: number) {
    this.capacity = capacity
    // a power of two, so a probe's bit is a mask away; at most 2^31, so the mask keeps a probe non-negative
    const bitCount = Math.min(2 ** 31, 2 ** Math.ceil(Math.log2(capacity * BITS_PER_KEY)))
    this.bits = new Uint32Array(bitCount / 32)
    this.mask = bitCount - 1
  }

  add (h1: number, h2: number): void {
    for (let i = 0, h = h1; i < PROBES; i++, h = (h + h2) | 0) {
      const bit = h & this.mask
      this.bits[bit >>> 5] = (this.bits[bit >>> 5] as number) | (1 << (bit & 31))
    }
    this.keys++
  }

  has (h1: number, h2: number): boolean {
    for (let i = 0, h = h1; i < PROBES; i++, h = (h + h2) | 0) {
      const bit = h & this.mask
      if (((this.bits[bit >>> 5] as number) & (1 << (bit & 31))) === 0) return false
    }
    return true
  }
}

/** A scan's source: what a LevelDB sublevel's `keys()` iterator offers. */
export interface KeySource {
  keys: () => { nextv: (size: number) => Promise<string[]>, close: () => Promise<void> }
}

export class HeldIdFilter {
  private readonly layers: Layer[] = []
  private firstCapacity = MIN_LAYER_KEYS
  private scanned = false
  private stopping = false
  private scan: Promise<void> = Promise.resolve()

  /** False only when `key` was certainly never added and the scan has ended. */
  mightHold (key: string): boolean {
    if (!this.scanned) return true
    hashKey(key)
    for (const layer of this.layers) if (layer.has(hash1, hash2)) return true
    return false
  }

  add (key: string): void {
    let layer = this.layers[this.layers.length - 1]
    if (layer === undefined || layer.keys >= layer.capacity) {
      layer = new Layer(layer === undefined ? this.firstCapacity : layer.capacity * 2)
      this.layers.push(layer)
    }
    hashKey(key)
    layer.add(hash1, hash2)
  }

  /**
   * Adds every key `source` holds, in the background. `expectedKeys` is how many it holds: the
   * first layer has room for twice as many. A failed scan leaves the filter answering "maybe" for
   * everything: appends then read the index, as they did without it.
   */
  startScan (source: KeySource, expectedKeys: number, log: Logger | undefined): void {
    this.firstCapacity = Math.max(MIN_LAYER_KEYS, 2 * expectedKeys)
    const started = performance.now()
    this.scan = this.scanAll(source).then((keys) => {
      if (this.stopping) return
      this.scanned = true
      log?.info({ keys, ms: Math.round(performance.now() - started) }, 'event store: uniqueness filter built')
    }, (err: unknown) => {
      if (!this.stopping) log?.warn({ err }, 'event store: scanning the uniqueness index failed; every append reads it')
    })
  }

  /** Resolves when the scan has ended (or failed: see startScan). */
  async whenScanned (): Promise<void> {
    await this.scan
  }

  /** Ends the scan early; resolves once its iterator is closed, before the database may close. */
  async stop (): Promise<void> {
    this.stopping = true
    await this.scan
  }

  /** Returns how many keys it added. */
  private async scanAll (source: KeySource): Promise<number> {
    const it = source.keys()
    let added = 0
    try {
      while (!this.stopping) {
        const keys = await it.nextv(SCAN_CHUNK)
        if (keys.length === 0) break
        for (const key of keys) this.add(key)
        added += keys.length
      }
      return added
    } finally {
      await it.close()
    }
  }
}

// The key's two hashes, set by hashKey: returned this way, a lookup allocates nothing.
let hash1 = 0
let hash2 = 0

/**
 * Two 32-bit hashes of the key's UTF-16 code units (FNV-1a steps with two multipliers, each
 * finished with MurmurHash3's mixer), combined per probe as h1 + i·h2 (Kirsch and Mitzenmacher).
 * h2 is odd, so the probes of one key never repeat within a power-of-two layer.
 */
function hashKey (key: string): void {
  let a = 0x811c9dc5
  let b = 0x9747b28c
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0x5bd1e995)
  }
  hash1 = mix(a)
  hash2 = mix(b) | 1
}

function mix (h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) | 0
}
