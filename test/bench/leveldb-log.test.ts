import { describe, expect, it } from 'vitest'
import { parseLevelDbLog } from '../../scripts/bench/leveldb-log.js'

// Lines in the shape LevelDB writes to its LOG (local time to the microsecond, thread id, message)
const LOG = [
  '2026/12/05-09:08:34.049341 7f18111166c0 Delete type=3 #1',
  '2026/12/05-09:08:34.137058 7f17eb3ff6c0 Level-0 table #5: started',
  '2026/12/05-09:08:34.142058 7f17eb3ff6c0 Level-0 table #5: 119643 bytes OK',
  '2026/12/05-09:08:34.437738 7f17eb3ff6c0 Compacting 4@0 + 1@1 files',
  '2026/12/05-09:08:34.452804 7f17eb3ff6c0 Generated table #16@0: 12210 keys, 598304 bytes',
  '2026/12/05-09:08:34.452828 7f17eb3ff6c0 Compacted 4@0 + 1@1 files => 598304 bytes',
  '2026/12/05-09:08:35.687738 7f17eb3ff6c0 compacted to: files[ 0 1 1 0 0 0 0 ]',
  '2026/12/05-09:08:35.000000 7f18111166c0 Current memtable full; waiting...',
  '2026/12/05-09:08:35.100000 7f18111166c0 Too many L0 files; waiting...',
  'not a LevelDB line'
].join('\n')

const at = (time: string): number => {
  const [h, m, s] = time.split(':').map(Number) as [number, number, number]
  return new Date(2026, 11, 5, h, m, Math.floor(s)).getTime() + Math.round((s % 1) * 1e6) / 1000
}

describe('parseLevelDbLog', () => {
  it('pairs flushes and compactions into spans, in local time', () => {
    const activity = parseLevelDbLog(LOG)
    expect(activity.flushes).toHaveLength(1)
    expect(activity.flushes[0]?.start).toBeCloseTo(at('09:08:34.137058'), 3)
    expect((activity.flushes[0]?.end ?? 0) - (activity.flushes[0]?.start ?? 0)).toBeCloseTo(5, 3)
    expect(activity.compactions).toHaveLength(1)
    expect((activity.compactions[0]?.end ?? 0) - (activity.compactions[0]?.start ?? 0)).toBeCloseTo(1250, 3)
  })

  it('tells the two kinds of waiting write apart', () => {
    const activity = parseLevelDbLog(LOG)
    expect(activity.memtableWaits).toEqual([at('09:08:35.0')])
    expect(activity.level0Waits).toEqual([at('09:08:35.1')])
  })

  it('leaves out a span whose end is not in the log yet', () => {
    const activity = parseLevelDbLog('2026/12/05-09:08:34.437738 7f17eb3ff6c0 Compacting 4@0 + 1@1 files\n')
    expect(activity.compactions).toEqual([])
  })
})
