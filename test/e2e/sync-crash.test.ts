/**
 * A node SIGKILLed while it is storing a sync backfill restarts with a consistent store (no
 * half-written record, contiguous sequences) and finishes the sync. The receiving node is the
 * real CLI in a child process; the serving node runs in-process.
 */
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { stringify as toYaml } from 'yaml'
import { initDataDir } from '../../src/data-dir.js'
import { artifactPublished, publishAll, startNodes, tempDataDir, waitFor } from '../helpers/nodes.js'
import { BUILT, allViews, startChild } from '../helpers/child-node.js'

/** Enough records that the backfill takes several pages (500 each) and a moment to store. */
const HISTORY = 4000

const TITLE = 'a node killed mid-sync'
describe.skipIf(!BUILT)(BUILT ? TITLE : `${TITLE} (skipped: dist/ is not built; npm test builds it first)`, () => {
  it('restarts consistent and finishes the backfill', async () => {
    const [a] = await startNodes(1, { names: ['a'], topology: 'none' })
    if (a === undefined) throw new Error('no node')
    const source = 'https://ci.sync-crash.example/jenkins'
    for (let i = 0; i < HISTORY; i += 1000) {
      await publishAll(a.node, Array.from({ length: 1000 }, (_, k) => artifactPublished({ source, id: `history-${i + k}` })))
    }

    const dataDir = await tempDataDir('cdgossip-sync-crash-')
    await initDataDir(dataDir)
    await writeFile(path.join(dataDir, 'config.yaml'), toYaml({
      network: a.config.network,
      p2p: { bootstrap: [a.address()], heartbeatMs: 100 },
      sync: { intervalSeconds: 1 },
      trust: { communities: [{ peerId: a.peerId, name: 'a', sources: [source] }] },
      subscriptions: [{ id: 'history', classes: ['artifact.*'], start: { kind: 'beginning' } }]
    }))

    const first = await startChild(dataDir)
    let held = 0
    await waitFor(async () => {
      const { body } = await first.api.request<{ store: { events: number } }>('GET', '/v1/node')
      held = body.store.events
      return held > 0
    }, { timeout: 30_000, interval: 10, message: 'the backfill to start' })
    first.child.kill('SIGKILL')
    await first.exited
    expect(held).toBeLessThan(HISTORY) // killed mid-backfill, not after it

    const second = await startChild(dataDir)
    await waitFor(async () => {
      const { body } = await second.api.request<{ store: { events: number } }>('GET', '/v1/node')
      return body.store.events === HISTORY
    }, { timeout: 60_000, message: `the restarted node to hold all ${HISTORY} records` })

    const views = await allViews(second.api)
    expect(views).toHaveLength(HISTORY)
    expect(new Set(views.map(v => v.digest)).size).toBe(HISTORY)
    expect(views.every(v => v.origin === a.peerId)).toBe(true)
    expect(views.map(v => v.sequence).sort((x, y) => x - y)).toEqual(Array.from({ length: HISTORY }, (_, i) => i + 1))
  })
})
