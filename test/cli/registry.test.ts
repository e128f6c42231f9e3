import { describe, expect, it } from 'vitest'
import { COMMANDS, COMMAND_GROUPS } from '../../src/cli/commands/index.js'
import { EXIT, main } from '../../src/cli/index.js'

/** What main prints on stdout and stderr for `argv`, in process (no node, no dist/). */
async function run (argv: string[]): Promise<{ code: number, out: string[], err: string[] }> {
  const out: string[] = []
  const err: string[] = []
  const code = await main(argv, line => { out.push(line) }, line => { err.push(line) })
  return { code, out, err }
}

describe('the command registry', () => {
  it('every command of every group is dispatched and named in the usage text', async () => {
    const names = COMMAND_GROUPS.flatMap(group => Object.keys(group))
    expect(names.length).toBeGreaterThan(0)
    expect(Object.keys(COMMANDS).sort()).toEqual([...names].sort())
    const { code, out } = await run(['help'])
    expect(code).toBe(EXIT.OK)
    const usageLines = out.join('\n').split('\n')
    for (const name of names) expect(usageLines.some(l => l.startsWith(`  ${name} `)), `usage names ${name}`).toBe(true)
  })

  it('a name that is not a command, an inherited property name included, is a usage error', async () => {
    for (const name of ['nope', 'toString', 'constructor']) {
      const { code, err } = await run([name])
      expect(code).toBe(EXIT.USAGE)
      expect(err.join('\n')).toContain(`unknown command ${name}`)
    }
  })
})
