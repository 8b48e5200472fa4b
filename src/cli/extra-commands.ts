// Commands contributed by other parts of petalmesh (the client, the Petals bridge).
import type { Command } from 'commander'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { registerClientCommands } from './client-commands.ts'
import { registerPetalsCommands } from './petals-commands.ts'
import { registerTrustCommands } from './trust-commands.ts'
import { discoverRoute } from '../client/discover.ts'
import { readDefaultBootstrap } from '../node/config.ts'

export function registerExtraCommands (program: Command): void {
  registerClientCommands(program)
  registerTrustCommands(program)
  registerPetalsCommands(program, {
    defaultDataDir: process.env.PETALMESH_DATA_DIR ?? join(homedir(), '.petalmesh'),
    // `petalmesh generate`: the Petals client's initial_peers come from a route through the mesh.
    resolveInitialPeers: async (model) => {
      const bootstrap = (process.env.PETALMESH_BOOTSTRAP ?? '').split(',').map(s => s.trim()).filter(s => s !== '')
      const r = await discoverRoute({ model, bootstrap: bootstrap.length > 0 ? bootstrap : readDefaultBootstrap() })
      return r.initialPeers
    }
  })
}
