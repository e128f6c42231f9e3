import { describe, expect, it, vi } from 'vitest'
import { createNode } from '../src/node.js'
import { dataDirPaths, initDataDir } from '../src/data-dir.js'
import { EventStore } from '../src/store/index.js'
import { e2eConfig, tempDataDir } from './helpers/nodes.js'

describe('CdgossipNode.stop', () => {
  it('stops every component when some fail to stop, and rejects with each failure', async () => {
    const dataDir = await tempDataDir('cdgossip-node-stop-')
    await initDataDir(dataDir)
    const node = await createNode(e2eConfig(dataDir))
    await node.start()
    const { sync, p2p } = node
    const syncFailure = new Error('sync would not stop')
    const p2pFailure = new Error('p2p would not stop')
    // each component really stops, then reports a failure: the ones after it must still stop
    const syncStop = sync.stop.bind(sync)
    vi.spyOn(sync, 'stop').mockImplementation(async () => { await syncStop(); throw syncFailure })
    const libp2p = p2p.libp2p
    const p2pStop = p2p.stop.bind(p2p)
    vi.spyOn(p2p, 'stop').mockImplementation(async () => { await p2pStop(); throw p2pFailure })

    const stopped = await node.stop().then(() => undefined, (err: unknown) => err)

    expect(stopped).toBeInstanceOf(AggregateError)
    expect((stopped as AggregateError).errors).toEqual([syncFailure, p2pFailure])
    expect((stopped as AggregateError).message).toContain('sync, p2p')
    expect(node.state).toBe('stopped')
    expect(libp2p.status).toBe('stopped')
    // the store after them closed too: its LevelDB lock is free again
    const store = new EventStore({}, { path: dataDirPaths(dataDir).store })
    await store.start()
    await store.stop()
  })
})
