// Commands contributed by other parts of petalmesh (the client, the Petals bridge, trust tools).
import type { Command } from 'commander'
import { registerClientCommands } from './client-commands.ts'

export function registerExtraCommands (program: Command): void {
  registerClientCommands(program)
}
