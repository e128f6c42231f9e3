import { describe, it, expect } from 'vitest'
import { DeliveredSets, MAX_SHARED_INTERVALS } from '../../src/node/delivered-sets.js'
import { MemoryStateSection } from '../delivery/fixtures.js'

const at = (sequence: number, origin = 'node-1', eventClass = 'artifact.published'): { origin: string, eventClass: string, sequence: number } => ({ origin, eventClass, sequence })

describe('DeliveredSets', () => {
  it('shares what one node handled as per-(origin, class) intervals that another node merges, persists and passes on', async () => {
    const holder = new DeliveredSets(new MemoryStateSection())
    for (const seq of [1, 2, 3, 5]) holder.handled('deploy', at(seq))
    holder.handled('deploy', at(1, 'node-2'))
    expect(holder.toWire()).toEqual({ deploy: { 'node-1 artifact.published': [[1, 3], [5, 5]], 'node-2 artifact.published': [[1, 1]] } })

    const section = new MemoryStateSection<Record<string, Array<readonly [number, number]>>>()
    const standby = new DeliveredSets(section)
    standby.merge(holder.toWire())
    expect(standby.has('deploy', at(2))).toBe(true)
    expect(standby.has('deploy', at(4))).toBe(false)
    expect(standby.counts()).toEqual({ deploy: 5 })
    await standby.save()

    const restarted = new DeliveredSets(section)
    await restarted.load()
    expect(restarted.toWire()).toEqual(holder.toWire())
    await restarted.forget('deploy')
    expect(restarted.toWire()).toEqual({})
  })

  it('takes nothing malformed or over its bounds from a sibling', () => {
    const sets = new DeliveredSets(new MemoryStateSection())
    sets.merge({
      'not a subscription id!': { 'node-1 artifact.published': [[1, 2]] },
      deploy: {
        'node-1 artifact.published': [[3, 1]],
        'node-1 artifact.deleted': [[0, 2]],
        'node-1 change.merged': Array.from({ length: MAX_SHARED_INTERVALS + 1 }, (_, i) => [2 * i + 1, 2 * i + 1]),
        'node-1 build.finished': [[1, 2]]
      }
    })
    sets.merge('garbage')
    sets.merge([[1, 2]])
    expect(sets.toWire()).toEqual({ deploy: { 'node-1 build.finished': [[1, 2]] } })
  })
})
