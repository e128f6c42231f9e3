import type { Command, CommandGroup } from '../command.js'
import { COMMUNITY_COMMANDS } from './community.js'
import { EVENT_COMMANDS } from './events.js'
import { NODE_COMMANDS } from './node.js'
import { SOURCE_COMMANDS } from './source.js'
import { SUBSCRIPTION_COMMANDS } from './subscriptions.js'
import { TRUST_COMMANDS } from './trust.js'
import { TRACE_COMMANDS } from './trace.js'

/** Every command group of the CLI, one file each; a new group is a file and a line here. */
export const COMMAND_GROUPS: readonly CommandGroup[] = [
  NODE_COMMANDS,
  EVENT_COMMANDS,
  TRUST_COMMANDS,
  COMMUNITY_COMMANDS,
  SUBSCRIPTION_COMMANDS,
  SOURCE_COMMANDS,
  TRACE_COMMANDS
]

/** Every command by name. Two groups claiming one name is a programming error, caught at load. */
export const COMMANDS: Readonly<Record<string, Command>> = mergeGroups(COMMAND_GROUPS)

function mergeGroups (groups: readonly CommandGroup[]): Record<string, Command> {
  const all: Record<string, Command> = {}
  for (const group of groups) {
    for (const [name, command] of Object.entries(group)) {
      if (Object.hasOwn(all, name)) throw new Error(`cli: command ${name} is defined by two command groups`)
      all[name] = command
    }
  }
  return all
}
