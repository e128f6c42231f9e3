import { renameSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import path from 'node:path'

/**
 * Preloaded into a node process (`node --import <this file> bin/cdgossip.js start`) by
 * `node-cpu --alloc`: the first SIGUSR2 starts V8's sampling heap profiler, counting the objects
 * the garbage collector has already freed too (so the profile is everything allocated, not what
 * is still live); the second stops it and writes `alloc.<pid>.heapprofile` into
 * CDGOSSIP_ALLOC_DIR (open it in Chrome DevTools, or summarise it with heap-profile.ts). Without
 * CDGOSSIP_ALLOC_DIR it does nothing. Bench tooling only: nothing in src/ loads it.
 */

/** One sample per 16 KiB allocated on average: cheap enough to leave a node's pace nearly as it is. */
const SAMPLING_INTERVAL_BYTES = 16 * 1024

const dir = process.env.CDGOSSIP_ALLOC_DIR
if (dir !== undefined && dir !== '') {
  const session = new Session()
  session.connect()
  let sampling = false
  // a signal handler cannot be async; the chain keeps start and stop in order
  let chain: Promise<void> = Promise.resolve()
  process.on('SIGUSR2', () => {
    chain = chain.then(async () => {
      if (!sampling) {
        await session.post('HeapProfiler.startSampling', {
          samplingInterval: SAMPLING_INTERVAL_BYTES,
          includeObjectsCollectedByMajorGC: true,
          includeObjectsCollectedByMinorGC: true
        })
        sampling = true
        return
      }
      const { profile } = await session.post('HeapProfiler.stopSampling')
      sampling = false
      // written aside, then renamed: a reader polling the directory never sees half a profile
      const file = path.join(dir, `alloc.${process.pid}.heapprofile`)
      writeFileSync(`${file}.partial`, JSON.stringify(profile))
      renameSync(`${file}.partial`, file)
    }).catch((err: unknown) => { console.error('alloc-sampler:', err) })
  })
}
