// Commands contributed by other parts of petalmesh (the Petals bridge, the client, trust tools).
import type { Command } from 'commander'

export function registerExtraCommands (_program: Command): void {
}
