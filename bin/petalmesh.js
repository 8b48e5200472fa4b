#!/usr/bin/env node
// Entry point: petalmesh runs its TypeScript sources directly through tsx, so there is no build step.
const major = Number(process.versions.node.split('.')[0])
if (major < 22) {
  process.stderr.write(`petalmesh needs Node >= 22 (libp2p v3 uses Promise.withResolvers); this is Node ${process.versions.node}.\n` +
    'Run it through npm (npx petalmesh, npm run petalmesh --) so the project-local Node from the "node" devDependency is used, or install Node 22+.\n')
  process.exit(2)
}
const { register } = await import('tsx/esm/api')
register()
await import('../src/cli/main.ts')
