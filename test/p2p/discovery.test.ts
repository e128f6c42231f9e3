import { describe, expect, it } from 'vitest'
import { startP2PNode, waitFor } from '../helpers/p2p.js'

describe('mDNS discovery', () => {
  it('dials the peers it discovers on the LAN (libp2p 2.x only records them)', async () => {
    const a = await startP2PNode({ name: 'a', mdns: true })
    const b = await startP2PNode({ name: 'b', mdns: true })
    await waitFor(() => a.service.peers().some((p) => p.peerId === b.service.peerId), { message: 'A and B to connect via mDNS' })
    expect(b.service.peers().map((p) => p.peerId)).toContain(a.service.peerId)
  })
})
