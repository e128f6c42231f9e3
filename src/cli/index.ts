export { main } from './main.js'
export { EXIT } from './command.js'
export type { Command, CommandContext, CommandGroup, Out } from './command.js'
