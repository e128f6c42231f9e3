import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { record, sha256Hex, startP2PNode, waitFor, waitForMesh } from '../helpers/p2p.js'

const CLASS = 'change.merged'
/** Long enough that only libp2p's keep-alive reconnect, not the watchdog, can redial in these tests. */
const NO_WATCHDOG_MS = 600_000

describe('bootstrap peers', () => {
  it('dials them at start and redials one that restarts with the same key and port', async () => {
    const hubKey = await generateKeyPair('Ed25519')
    const hub = await startP2PNode({ name: 'hub', privateKey: hubKey, classes: [CLASS] })
    const hubAddress = hub.service.multiaddrs()[0] as string
    const { port } = multiaddr(hubAddress).toOptions()

    const leaf = await startP2PNode({ name: 'leaf', classes: [CLASS], bootstrap: [hubAddress], watchdogIntervalMs: NO_WATCHDOG_MS })
    await waitForMesh([hub, leaf], CLASS)

    await hub.service.stop()
    await waitFor(() => leaf.service.peers().length === 0, { message: 'the leaf to see the hub go' })

    const hubAgain = await startP2PNode({
      name: 'hub again',
      privateKey: hubKey,
      classes: [CLASS],
      listen: [`/ip4/127.0.0.1/tcp/${port}`]
    })
    expect(hubAgain.service.peerId).toBe(hub.service.peerId)
    await waitForMesh([hubAgain, leaf], CLASS)

    const bytes = record('merged after the restart')
    await leaf.service.publish(CLASS, bytes)
    await waitFor(() => hubAgain.records.stored.has(sha256Hex(bytes)), { message: 'the restarted hub to store the record' })
  })

  it('reconnects after its own restart, and the watchdog redials a bootstrap peer that came back late', async () => {
    const hubKey = await generateKeyPair('Ed25519')
    const hub = await startP2PNode({ name: 'hub', privateKey: hubKey, classes: [CLASS] })
    const hubAddress = hub.service.multiaddrs()[0] as string
    const { port } = multiaddr(hubAddress).toOptions()
    const leaf = await startP2PNode({ name: 'leaf', classes: [CLASS], bootstrap: [hubAddress] })
    await waitForMesh([hub, leaf], CLASS)

    await leaf.service.stop()
    await leaf.service.start()
    await waitForMesh([hub, leaf], CLASS)

    // the hub is away while the leaf restarts: the start-time dial fails and the watchdog retries
    await hub.service.stop()
    await leaf.service.stop()
    await leaf.service.start()
    const hubAgain = await startP2PNode({ name: 'hub again', privateKey: hubKey, classes: [CLASS], listen: [`/ip4/127.0.0.1/tcp/${port}`] })
    await waitForMesh([hubAgain, leaf], CLASS)
  })
})
