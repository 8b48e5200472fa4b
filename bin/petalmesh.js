#!/usr/bin/env node
// Entry point: petalmesh runs its TypeScript sources directly through tsx, so there is no build step.
// libp2p v3 needs Node >= 22; on an older Node, re-run with the project-local Node (the "node" devDependency).
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { spawn } from 'node:child_process'

const major = Number(process.versions.node.split('.')[0])
if (major < 22) {
  const local = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url))
  if (!existsSync(local)) {
    process.stderr.write(`petalmesh needs Node >= 22 (libp2p v3 uses Promise.withResolvers); this is Node ${process.versions.node}.\n` +
      'Run `npm install` in the petalmesh directory (it brings Node 24 as a devDependency), or install Node 22+.\n')
    process.exit(2)
  }
  const child = spawn(local, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' })
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { child.kill(sig) })
  child.on('exit', (code, signal) => { process.exit(code ?? (signal != null ? 128 + 15 : 1)) })
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import('../src/cli/main.ts')
}
