// A minimal "node daemon" for the SIGINT test: runs a Petals backend on a span and, on SIGINT, closes it
// gracefully before exiting — what petalmesh's daemon does. Run with `node --import tsx`.
// argv[2] = JSON { config, dataDir, env, span }

import { createPetalsBackend } from '../../src/petals-bridge/index.ts'

const input = JSON.parse(process.argv[2]) as {
  config: Record<string, unknown>
  dataDir: string
  env: Record<string, string>
  span: { start: number, end: number }
}

const backend = await createPetalsBackend({ config: input.config, dataDir: input.dataDir, env: input.env, hosts: ['127.0.0.1'] })
let closing = false
process.on('SIGINT', () => {
  if (closing) return
  closing = true
  void backend.close().then(() => {
    process.stdout.write(`CLOSED ${JSON.stringify(backend.status())}\n`)
    process.exit(0)
  })
})
backend.onStatus((s) => {
  if (s.state === 'online') process.stdout.write(`ONLINE ${JSON.stringify(s)}\n`)
})
await backend.setSpan(input.span)
