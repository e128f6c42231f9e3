import { describe, expect, it } from 'vitest'
import { cdevent, startApi, structured } from './fake-node.js'

describe('POST /v1/events: a refused CloudEvents batch names its item', () => {
  it('a malformed item is named by index and id in the message and the mismatches; nothing reaches the node', async () => {
    const api = await startApi()
    const broken = { ...structured(cdevent('b')), data_base64: 'e30=' }
    const res = await api.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...api.auth, 'content-type': 'application/cloudevents-batch+json' },
      payload: JSON.stringify([structured(cdevent('a')), broken])
    })
    expect(res.statusCode).toBe(422)
    expect(res.json()).toMatchObject({
      code: 'CDG_INVALID_CLOUDEVENT',
      message: 'batch item 1 (id b): a CloudEvent carries data or data_base64, never both',
      mismatches: [{ index: 1, id: 'b', attribute: 'data_base64' }]
    })
    expect(api.node.calls.publish).toEqual([])
  })
})
