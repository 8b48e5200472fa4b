// `petalmesh swarm-key`: generates a private swarm key (libp2p pnet pre-shared key).
import type { Command } from 'commander'
import { resolve } from 'node:path'
import { generateSwarmKey, writeSwarmKeyFile, swarmKeyFingerprint, SWARM_KEY_ENV } from '../node/trust/swarm-key.ts'

export interface TrustCommandsOptions {
  /** Where the command's output goes (default: process.stdout). */
  write?: (text: string) => void
}

export function registerTrustCommands (program: Command, opts: TrustCommandsOptions = {}): void {
  const write = opts.write ?? ((text: string) => { process.stdout.write(text) })
  program.command('swarm-key')
    .description('generate a private swarm key: only nodes holding the same key can connect to each other')
    .option('-o, --out <file>', 'write the key to this file (mode 0600) instead of printing it')
    .option('-f, --force', 'replace an existing key file (nodes still using the old key are locked out)')
    .addHelpText('after', `
Give the key to every node of the swarm over a secure channel, then either set the config key
trust.swarmKeyFile to the file's path or put the key's text in the environment variable
${SWARM_KEY_ENV}. Keys are never passed as command-line arguments.`)
    .action(async (o: { out?: string, force?: boolean }) => {
      const key = generateSwarmKey()
      if (o.out == null) {
        write(key + '\n')
        return
      }
      const path = resolve(o.out)
      await writeSwarmKeyFile(path, key, { force: o.force === true })
      const fingerprint = swarmKeyFingerprint(new TextEncoder().encode(key))
      write(`wrote a new swarm key to ${path} (mode 0600, fingerprint ${fingerprint})\n` +
        `use it on every node of the swarm: trust.swarmKeyFile = ${path} (or ${SWARM_KEY_ENV})\n`)
    })
}
