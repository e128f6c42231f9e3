import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Level } from 'level'
import { describe, expect, expectTypeOf, it, onTestFinished } from 'vitest'
import type { DeadLetter as ApiDeadLetter } from '../../src/api/types.js'
import { DeliveryService } from '../../src/delivery/index.js'
import type { DeadLetter, DeliveryAttempt, DeliveryProgress, DeliveryServiceInit } from '../../src/delivery/index.js'
import type { StateSection } from '../../src/store/types.js'
import type { Subscription } from '../../src/subscriptions/types.js'
import { cursorOf, MemorySource, MemoryStateSection, Receiver, levelSection, makeStored, matches, waitFor, webhookSubscription } from './fixtures.js'

/** Fast retries; tests that need a parked retry pass a long base instead. */
const FAST: DeliveryServiceInit = { backoffBaseMs: 5, backoffMaxMs: 20 }

interface Harness {
  source: MemorySource
  service: DeliveryService
  attempts: DeliveryAttempt[]
  progressState: StateSection<DeliveryProgress>
  deadLetterState: StateSection<DeadLetter[]>
}

function harness (init: DeliveryServiceInit = FAST, state?: Pick<Harness, 'progressState' | 'deadLetterState'>, source = new MemorySource()): Harness {
  const progressState = state?.progressState ?? new MemoryStateSection<DeliveryProgress>()
  const deadLetterState = state?.deadLetterState ?? new MemoryStateSection<DeadLetter[]>()
  const attempts: DeliveryAttempt[] = []
  const service = new DeliveryService({
    source,
    matches,
    progress: progressState,
    deadLetters: deadLetterState,
    onAttempt: attempt => { attempts.push(attempt) }
  }, init)
  onTestFinished(async () => { await service.stop() })
  return { source, service, attempts, progressState, deadLetterState }
}

async function receiver (): Promise<Receiver> {
  const r = await Receiver.start()
  onTestFinished(async () => { await r.close() })
  return r
}

async function run (h: Harness, subs: Subscription[]): Promise<void> {
  await h.service.syncSubscriptions(subs)
  await h.service.start()
}

describe('DeliveryService', () => {
  it('keeps the dead-letter shape of the API contract', () => {
    expectTypeOf<DeadLetter>().toEqualTypeOf<ApiDeadLetter>()
  })

  it('retries 500, 429 with Retry-After and a timeout, then delivers every event in order', async () => {
    const hook = await receiver()
    hook.script = [
      { status: 500, body: 'boom' },
      { status: 500 },
      { status: 429, headers: { 'retry-after': '1' } },
      'hang'
    ]
    const h = harness()
    const events = [1, 2, 3].map(n => makeStored(n))
    h.source.append(...events)
    // The timeout must outlast an event-loop stall on a loaded 2-core runner, or a healthy attempt
    // could time out too; one hung attempt costs this once.
    await run(h, [webhookSubscription('s1', { url: hook.url, timeoutMs: 1000, maxAttempts: 10 })])

    // the receiver answers before the service records the attempt: wait for the record
    await waitFor(() => hook.acked().length === 3 && h.attempts.length === 7, { message: 'three events acknowledged and recorded' })
    expect(hook.requests.map(r => [r.headers['ce-id'], r.answered])).toEqual([
      ['event-1', 500], ['event-1', 500], ['event-1', 429], ['event-1', 'hang'], ['event-1', 200],
      ['event-2', 200], ['event-3', 200]
    ])
    expect(h.attempts.map(a => [a.digest, a.attempt, a.result])).toEqual([
      [events[0]?.event.digest, 1, 'retry'],
      [events[0]?.event.digest, 2, 'retry'],
      [events[0]?.event.digest, 3, 'retry'],
      [events[0]?.event.digest, 4, 'retry'],
      [events[0]?.event.digest, 5, 'delivered'],
      [events[1]?.event.digest, 1, 'delivered'],
      [events[2]?.event.digest, 1, 'delivered']
    ])
    expect(h.attempts.map(a => a.status)).toEqual([500, 500, 429, undefined, 200, 200, 200])
    // Retry-After: 1 is honoured exactly, instead of the (tiny) backoff
    expect(h.attempts[2]?.retryInMs).toBe(1000)
    expect(h.attempts[0]?.retryInMs).toBeLessThanOrEqual(20)

    // live: a record stored after catching up wakes the worker
    h.source.append(makeStored(4))
    await waitFor(() => hook.acked().length === 4, { message: 'live event acknowledged' })
    expect(hook.acked()).toEqual(['event-1', 'event-2', 'event-3', 'event-4'])

    await waitFor(async () => (await h.service.subscriptionStatus('s1'))?.state === 'idle', { message: 'worker idle' })
    const status = await h.service.subscriptionStatus('s1')
    expect(status).toMatchObject({
      subscriptionId: 's1', delivered: 4, attempts: 8, failures: 4, deadLetters: 0, lag: 0, lagTruncated: false, lastStatus: 200, cursor: cursorOf(4)
    })
  })

  it('dead-letters after maxAttempts, moves on, and re-drives once the receiver recovers', async () => {
    const hook = await receiver()
    hook.fallback = { status: 503 }
    const h = harness()
    const [e1, e2, e3] = [1, 2, 3].map(n => makeStored(n))
    h.source.append(e1!, e2!)
    await run(h, [webhookSubscription('s1', { url: hook.url, maxAttempts: 3 })])

    await waitFor(async () => (await h.service.listDeadLetters('s1')).length === 2, { message: 'two dead letters' })
    const letters = await h.service.listDeadLetters('s1')
    expect(letters.map(l => ({ digest: l.digest, cursor: l.cursor, attempts: l.attempts, lastStatus: l.lastStatus }))).toEqual([
      { digest: e1!.event.digest, cursor: e1!.cursor, attempts: 3, lastStatus: 503 },
      { digest: e2!.event.digest, cursor: e2!.cursor, attempts: 3, lastStatus: 503 }
    ])
    expect(hook.requests.map(r => r.headers['ce-id'])).toEqual(['event-1', 'event-1', 'event-1', 'event-2', 'event-2', 'event-2'])
    expect(h.attempts.filter(a => a.result === 'dead-letter')).toHaveLength(2)

    // the receiver recovers: new events flow at once, dead letters wait for a re-drive
    hook.fallback = { status: 200 }
    h.source.append(e3!)
    await waitFor(() => hook.acked().length === 1, { message: 'new event delivered' })
    expect(await h.service.listDeadLetters('s1')).toHaveLength(2)

    expect(await h.service.redrive('s1')).toBe(2)
    await waitFor(async () => (await h.service.listDeadLetters('s1')).length === 0, { message: 'dead letters re-driven' })
    expect(hook.acked()).toEqual(['event-3', 'event-1', 'event-2'])
    expect(h.attempts.filter(a => a.redrive).map(a => a.result)).toEqual(['delivered', 'delivered'])
    const status = await h.service.subscriptionStatus('s1')
    expect(status).toMatchObject({ delivered: 3, deadLetters: 0, redrivePending: 0, lag: 0 })
  })

  it('re-drives only the named digests and keeps a re-driven letter that fails again', async () => {
    const hook = await receiver()
    hook.fallback = { status: 500 }
    const h = harness()
    const [e1, e2] = [1, 2].map(n => makeStored(n))
    h.source.append(e1!, e2!)
    await run(h, [webhookSubscription('s1', { url: hook.url, maxAttempts: 2 })])
    await waitFor(async () => (await h.service.listDeadLetters('s1')).length === 2, { message: 'two dead letters' })

    expect(await h.service.redrive('s1', [e2!.event.digest, 'unknown'])).toBe(1)
    await waitFor(() => h.attempts.filter(a => a.redrive && a.result === 'dead-letter').length === 1, { message: 're-drive failed again' })
    const letters = await h.service.listDeadLetters('s1')
    expect(letters.map(l => [l.digest, l.attempts])).toEqual([[e1!.event.digest, 2], [e2!.event.digest, 4]])

    expect(await h.service.discardDeadLetters('s1', [e1!.event.digest])).toBe(1)
    expect((await h.service.listDeadLetters('s1')).map(l => l.digest)).toEqual([e2!.event.digest])
  })

  it('dead-letters a non-retryable answer at once and keeps going', async () => {
    const hook = await receiver()
    hook.script = [{ status: 400, body: 'bad event' }, { status: 408 }]
    const h = harness()
    h.source.append(makeStored(1), makeStored(2))
    await run(h, [webhookSubscription('s1', { url: hook.url })])

    await waitFor(() => hook.acked().length === 1, { message: 'second event delivered' })
    const letters = await h.service.listDeadLetters('s1')
    expect(letters).toHaveLength(1)
    expect(letters[0]).toMatchObject({ cursor: makeStored(1).cursor, attempts: 1, lastStatus: 400 })
    // 408 is retryable: event-2 went through on its second attempt
    expect(hook.requests.map(r => [r.headers['ce-id'], r.answered])).toEqual([['event-1', 400], ['event-2', 408], ['event-2', 200]])
  })

  it('dead-letters an event older than maxAgeSeconds even with attempts left', async () => {
    const hook = await receiver()
    hook.fallback = { status: 502 }
    const h = harness({ backoffBaseMs: 100, backoffMaxMs: 200 })
    h.source.append(makeStored(1))
    await run(h, [webhookSubscription('s1', { url: hook.url, maxAttempts: 100, maxAgeSeconds: 1 })])

    await waitFor(async () => (await h.service.listDeadLetters('s1')).length === 1, { message: 'aged out' })
    const [letter] = await h.service.listDeadLetters('s1')
    expect(letter?.attempts).toBeGreaterThan(1)
    expect(letter?.attempts).toBeLessThan(100)
    expect(letter?.lastStatus).toBe(502)
  })

  it('does not let one failing subscription block another, and stops a parked retry promptly', async () => {
    const failing = await receiver()
    failing.fallback = { status: 500 }
    const healthy = await receiver()
    // a backoff of minutes: only an abort can end the wait
    const h = harness({ backoffBaseMs: 600_000, backoffMaxMs: 600_000 })
    h.source.append(makeStored(1), makeStored(2), makeStored(3))
    await run(h, [
      webhookSubscription('a', { url: failing.url }),
      webhookSubscription('b', { url: healthy.url })
    ])

    await waitFor(() => healthy.acked().length === 3, { message: 'healthy subscription delivered everything' })
    await waitFor(async () => (await h.service.subscriptionStatus('a'))?.state === 'retrying', { message: 'a is retrying' })
    expect(failing.requests.map(r => r.headers['ce-id'])).toEqual(['event-1'])
    const a = await h.service.subscriptionStatus('a')
    expect(a).toMatchObject({ delivered: 0, failures: 1, lag: 3, lastStatus: 500 })
    expect(a?.lastError).toContain('500')

    await h.service.stop()
    expect(h.service.isStarted()).toBe(false)
    expect(h.source.listenerCount()).toBe(0)
    expect((await h.service.subscriptionStatus('a'))?.state).toBe('stopped')
  })

  it('resumes after a restart exactly after the last acknowledged event (LevelDB state)', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cdgossip-delivery-'))
    onTestFinished(async () => { await fs.rm(dir, { recursive: true, force: true }) })
    const hook = await receiver()
    hook.script = [{ status: 200 }, { status: 200 }]
    hook.fallback = { status: 500 }
    const source = new MemorySource()
    const sub = webhookSubscription('s1', { url: hook.url })

    const db1 = new Level<string, unknown>(dir, { valueEncoding: 'json' })
    await db1.open()
    const first = harness({ backoffBaseMs: 600_000, backoffMaxMs: 600_000 }, {
      progressState: levelSection(db1, 'progress'),
      deadLetterState: levelSection(db1, 'dead-letters')
    }, source)
    source.append(makeStored(1), makeStored(2), makeStored(3))
    await run(first, [sub])
    await waitFor(() => first.attempts.some(a => a.result === 'retry'), { message: 'event-3 failed once' })
    await first.service.stop()
    await db1.close()

    // stored while the service was down
    source.append(makeStored(4), makeStored(5))
    hook.fallback = { status: 200 }

    const db2 = new Level<string, unknown>(dir, { valueEncoding: 'json' })
    await db2.open()
    onTestFinished(async () => { await db2.close() })
    const second = harness(FAST, {
      progressState: levelSection(db2, 'progress'),
      deadLetterState: levelSection(db2, 'dead-letters')
    }, source)
    await run(second, [sub])
    await waitFor(() => hook.acked().length === 5, { message: 'all five acknowledged' })
    expect(hook.acked()).toEqual(['event-1', 'event-2', 'event-3', 'event-4', 'event-5'])
    expect(hook.requests.map(r => r.headers['ce-id'])).toEqual(['event-1', 'event-2', 'event-3', 'event-3', 'event-4', 'event-5'])
    // the retry budget of event-3 carried over the restart
    expect(second.attempts[0]).toMatchObject({ attempt: 2, result: 'delivered' })
    // the receiver answers before the service records the delivery
    await waitFor(async () => (await second.service.subscriptionStatus('s1'))?.delivered === 5, { message: 'fifth delivery recorded' })
    expect(await second.service.subscriptionStatus('s1')).toMatchObject({ delivered: 5, attempts: 6, failures: 1, lag: 0 })
  })

  it('starts where the subscription says: now, cursor, time', async () => {
    const hook = await receiver()
    const h = harness()
    h.source.append(makeStored(1), makeStored(2), makeStored(3))
    const url = hook.url
    await h.service.syncSubscriptions([
      webhookSubscription('now', { url, headers: { 'x-sub': 'now' } }, { start: { kind: 'now' } }),
      webhookSubscription('cursor', { url, headers: { 'x-sub': 'cursor' } }, { start: { kind: 'cursor', cursor: makeStored(1).cursor } }),
      webhookSubscription('time', { url, headers: { 'x-sub': 'time' } }, { start: { kind: 'time', time: makeStored(3).receivedAt } })
    ])
    // stored after the `now` subscription was declared but before the service started
    h.source.append(makeStored(4))
    await h.service.start()

    await waitFor(() => hook.acked().length === 6, { message: 'six deliveries' })
    const bySub = (name: string): string[] => hook.requests.filter(r => r.headers['x-sub'] === name).map(r => String(r.headers['ce-id']))
    expect(bySub('now')).toEqual(['event-4'])
    expect(bySub('cursor')).toEqual(['event-2', 'event-3', 'event-4'])
    expect(bySub('time')).toEqual(['event-3', 'event-4'])
  })

  it('only delivers what the matcher accepts, and follows subscription changes', async () => {
    const hook = await receiver()
    const h = harness()
    h.source.append(makeStored(1), makeStored(2, { eventClass: 'artifact.published' }), makeStored(3))
    const sub = webhookSubscription('s1', { url: hook.url }, { classes: ['artifact.*'] })
    await run(h, [sub])
    await waitFor(() => hook.acked().length === 1, { message: 'matching event delivered' })
    expect(hook.acked()).toEqual(['event-2'])

    await waitFor(async () => (await h.service.subscriptionStatus('s1'))?.cursor === cursorOf(3), { message: 'skipped past event-3' })

    // widened: the worker restarts with the new definition and keeps its cursor, so the change
    // applies to records stored from now on
    await h.service.syncSubscriptions([{ ...sub, classes: ['*'] }])
    h.source.append(makeStored(4))
    await waitFor(() => hook.acked().length === 2, { message: 'later event delivered' })
    expect(hook.acked()).toEqual(['event-2', 'event-4'])

    // removed: no worker, no status
    await h.service.syncSubscriptions([])
    h.source.append(makeStored(5))
    expect(await h.service.subscriptionStatus('s1')).toBeUndefined()
    await expect(h.service.listDeadLetters('s1')).rejects.toMatchObject({ code: 'CDG_NOT_FOUND' })

    await h.service.forgetSubscription('s1')
    expect(await h.progressState.get('s1')).toBeUndefined()
  })

  it('reports an unusable sink instead of delivering', async () => {
    const h = harness()
    h.source.append(makeStored(1))
    await run(h, [webhookSubscription('bad', { url: 'ftp://example.invalid/x', headers: { 'ce-id': 'spoof' } })])
    const status = await h.service.subscriptionStatus('bad')
    expect(status?.state).toBe('invalid')
    expect(status?.lastError).toBeDefined()
    expect(status?.lag).toBe(1)
  })

  it('pauses a subscription whose dead letters are full until they shrink', async () => {
    const hook = await receiver()
    hook.fallback = { status: 400 }
    const h = harness({ ...FAST, maxDeadLetters: 2 })
    h.source.append(makeStored(1), makeStored(2), makeStored(3))
    await run(h, [webhookSubscription('s1', { url: hook.url })])
    await waitFor(async () => (await h.service.subscriptionStatus('s1'))?.state === 'paused', { message: 'paused' })
    expect(hook.requests).toHaveLength(2)
    expect((await h.service.subscriptionStatus('s1'))?.lag).toBe(1)

    hook.fallback = { status: 200 }
    expect(await h.service.discardDeadLetters('s1')).toBe(2)
    await waitFor(() => hook.acked().length === 1, { message: 'resumed after discard' })
    expect(hook.acked()).toEqual(['event-3'])
  })
})
