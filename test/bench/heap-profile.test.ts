import { fileURLToPath } from 'node:url'
import type { HeapProfiler } from 'node:inspector'
import { describe, expect, it } from 'vitest'
import { formatTopSites, summarizeAllocations } from '../../scripts/bench/heap-profile.js'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

function node (functionName: string, url: string, lineNumber: number, selfSize: number, children: HeapProfiler.SamplingHeapProfileNode[] = []): HeapProfiler.SamplingHeapProfileNode {
  return { callFrame: { functionName, url, lineNumber, columnNumber: 0, scriptId: '0' }, selfSize, children }
}

/** A profile as the inspector returns it: sizes sit on call-tree nodes, one function may appear under several callers. */
const PROFILE: HeapProfiler.SamplingHeapProfile = {
  head: node('(root)', '', -1, 0, [
    node('decode', 'node:internal/encoding', 439, 4000, [
      node('', '', -1, 1000)
    ]),
    node('handleFrame', '/srv/app/node_modules/@chainsafe/libp2p-yamux/dist/src/muxer.js', 336, 3000),
    node('caller', 'node:internal/timers', 10, 0, [
      node('decode', 'node:internal/encoding', 439, 2000)
    ])
  ])
}

describe('summarizeAllocations', () => {
  const summary = summarizeAllocations(PROFILE, REPO_ROOT)

  it('adds a function\'s bytes over every call path and sorts the heaviest first', async () => {
    const { totalBytes, sites } = await summary
    expect(totalBytes).toBe(10_000)
    expect(sites).toEqual([
      { site: 'decode node:internal/encoding:440', bytes: 6000 },
      { site: 'handleFrame node_modules/@chainsafe/libp2p-yamux/dist/src/muxer.js:337', bytes: 3000 },
      { site: '(anonymous) (native/V8)', bytes: 1000 }
    ])
  })

  it('prints the top sites per unit of work', async () => {
    expect(formatTopSites(await summary, 10, 2)).toEqual([
      '    600 B  decode node:internal/encoding:440',
      '    300 B  handleFrame node_modules/@chainsafe/libp2p-yamux/dist/src/muxer.js:337'
    ])
  })
})
