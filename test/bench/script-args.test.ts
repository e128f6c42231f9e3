import { afterEach, describe, expect, it } from 'vitest'
import { UsageError, integerOption, scriptArgs, scriptArgsWithPositionals } from '../../scripts/bench/script-args.js'
import { describePhaseCpu } from '../../scripts/bench/publish-bench.js'

describe('scriptArgs', () => {
  const argv = process.argv
  const withArgs = (...args: string[]): void => { process.argv = [argv[0] as string, 'script.js', ...args] }
  afterEach(() => { process.argv = argv })
  const OPTIONS = { seconds: { type: 'string' }, quick: { type: 'boolean' } } as const

  it('parses the options, and the positionals where the script takes them', () => {
    withArgs('federation', '--seconds', '4', 'query', '--quick')
    expect(scriptArgsWithPositionals('usage', OPTIONS)).toEqual({ values: { seconds: '4', quick: true }, positionals: ['federation', 'query'] })
    withArgs('--seconds', '4')
    expect(scriptArgs('usage', OPTIONS)).toEqual({ seconds: '4' })
  })

  it('reports an unknown option, a missing value or an unexpected positional as a usage error', () => {
    for (const args of [['--bogus'], ['--seconds'], ['extra']]) {
      withArgs(...args)
      expect(() => scriptArgs('usage', OPTIONS)).toThrow(UsageError)
    }
    withArgs('--bogus', 'federation')
    expect(() => scriptArgsWithPositionals('usage', OPTIONS)).toThrow(UsageError)
  })
})

describe('integerOption', () => {
  it('takes the fallback when the option is absent and the number when it is a positive integer', () => {
    expect(integerOption(undefined, '--events', 8000)).toBe(8000)
    expect(integerOption('250', '--events', 8000)).toBe(250)
  })

  it('refuses anything else as a usage error naming the option', () => {
    for (const bad of ['0', '-3', '2.5', '1e3', 'x', '', ' 7', '99999999999999999999']) {
      expect(() => integerOption(bad, '--events', 1)).toThrow(UsageError)
    }
    expect(() => integerOption('x', '--batch', 1)).toThrow('--batch takes a positive integer, got "x"')
  })

  it('takes a lower minimum when given one, and names it when the value is below', () => {
    expect(integerOption('0', '--index-entries', 15, 0)).toBe(0)
    expect(() => integerOption('9', '--records', 6400, 10)).toThrow('--records takes an integer of at least 10, got "9"')
  })
})

describe('describePhaseCpu', () => {
  const usage = { byProcess: { server: 2570, bench: 760 }, totalMs: 3330, wallMs: 8000 }

  it('gives µs per accepted event for the server and the bench client, and the node\'s threads by kind', () => {
    const threads = { main: 1590, libuv: 720, v8: 250, verify: 0, other: 10 }
    expect(describePhaseCpu({ usage, threads }, 10_000, 'node'))
      .toBe('node 257 µs (event loop 159, LevelDB 72, V8 helpers 25, other 1), bench client 76 µs')
    expect(describePhaseCpu({ usage, threads: { ...threads, verify: 40, other: 0 } }, 10_000, 'node'))
      .toBe('node 257 µs (event loop 159, LevelDB 72, V8 helpers 25, verify worker 4), bench client 76 µs')
  })

  it('leaves the split out where the threads are not named (Node.js 20: all but the event loop are other) or not read', () => {
    expect(describePhaseCpu({ usage, threads: { main: 1590, libuv: 0, v8: 0, verify: 0, other: 980 } }, 10_000, 'node'))
      .toBe('node 257 µs, bench client 76 µs')
    expect(describePhaseCpu({ usage }, 10_000, 'broker')).toBe('broker 257 µs, bench client 76 µs')
  })

  it('says so when a process could not be read', () => {
    expect(describePhaseCpu({ usage: { byProcess: { bench: 760 }, totalMs: 760, wallMs: 8000 } }, 10_000, 'broker'))
      .toBe('broker ? µs, bench client 76 µs')
  })
})
