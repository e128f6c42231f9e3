import { describe, expect, it } from 'vitest'
import { main } from '../../src/cli/index.js'
import { publishAll, startNodes } from '../helpers/nodes.js'
import type { E2eNode } from '../helpers/nodes.js'
import { linkedRelease } from '../trace/linked-chain.js'

/**
 * `cdgossip trace` and `cdgossip artifact`, run through the CLI's main() in this process against a
 * real node's REST API (the same code as the bin, without a child process per call).
 */
async function cli (node: E2eNode, args: string[]): Promise<{ code: number, out: string[], err: string[] }> {
  const out: string[] = []
  const err: string[] = []
  const code = await main([...args, '--api-url', node.node.apiUrl, '--token', node.token], l => { out.push(...l.split('\n')) }, l => { err.push(l) })
  return { code, out, err }
}

describe('cdgossip trace and artifact', () => {
  it('prints a chain, an event\'s neighbourhood and an artifact\'s confidence summary', async () => {
    const [a] = await startNodes(1) as [E2eNode]
    const r = linkedRelease()
    // one community here: B's runs are published at A too, so A signs every event
    const [change, build, artifact, testA, failed] = (await publishAll(a.node, [r.change, r.build, r.artifact, r.testA, r.testBFailed])).map(x => x.digest) as [string, string, string, string, string]

    const chain = await cli(a, ['trace', r.chainId])
    expect(chain.code).toBe(0)
    expect(chain.out[0]).toBe(`chain ${r.chainId}: 5 events held`)
    // an indented tree from the change down: build, then the artifact, then the tests
    const at = (prefix: string, digest: string): number => chain.out.findIndex(l => l.startsWith(prefix) && l.includes(digest.slice(0, 12)))
    expect(at('change.merged', change)).toBe(1)
    expect(at('  → PATH  build.finished', build)).toBe(2)
    expect(chain.out.some(l => l.startsWith('    → ') && l.includes(artifact.slice(0, 12)))).toBe(true)
    expect(chain.out.some(l => l.startsWith('      → ARTIFACT  testsuiterun.finished') && l.includes(testA.slice(0, 12)))).toBe(true)
    expect(chain.out.some(l => l.startsWith('      → customData.artifactId  testsuiterun.finished') && l.includes('failure'))).toBe(true)

    const up = await cli(a, ['trace', failed, '--direction', 'up'])
    expect(up.code).toBe(0)
    expect(up.out[0]).toContain(failed.slice(0, 12))
    expect(up.out[1]).toBe('upstream:')
    expect(up.out.some(l => l.startsWith('  ← environment  ? environment qa (not held)'))).toBe(true)
    expect(up.out.some(l => l.startsWith('      ← PATH  change.merged') && l.includes(change.slice(0, 12)))).toBe(true)
    expect(up.out).not.toContain('downstream:')

    const json = await cli(a, ['trace', failed, '--direction', 'up', '--depth', '1', '--json'])
    const graph = JSON.parse(json.out.join('\n')) as { root: string, nodes: Array<{ id: string }> }
    expect(graph.root).toBe(failed)
    expect(graph.nodes.map(n => n.id)).toContain(artifact)
    expect(graph.nodes.map(n => n.id)).not.toContain(build)

    const byPurl = await cli(a, ['trace', r.purl, '--direction', 'down'])
    expect(byPurl.out[0]).toContain(artifact.slice(0, 12))

    const stamp = await cli(a, ['artifact', r.purl])
    expect(stamp.code).toBe(0)
    expect(stamp.out[0]).toBe(`artifact ${r.purl}`)
    expect(stamp.out).toContain('confidence (newest first):')
    const row = stamp.out.find(l => l.startsWith('self'))
    expect(row?.split(/\s+/).slice(0, 5)).toEqual(['self', '1', '1', 'failure', 'beta-integration'])
    expect(stamp.out.some(l => l.startsWith('built by:'))).toBe(true)

    // --resolve asks peers first (none here) and says what it found
    const resolved = await cli(a, ['artifact', r.purl, '--resolve'])
    expect(resolved.code).toBe(0)
    expect(resolved.out.at(-1)).toMatch(/^resolve: 0 fetched in 1 round\(s\); \d+ still unresolved$/)

    expect((await cli(a, ['trace'])).code).toBe(2)
    expect((await cli(a, ['trace', r.chainId, '--direction', 'sideways'])).code).toBe(2)
    expect((await cli(a, ['trace', '0'.repeat(64)])).code).toBe(1)
  })
})
