// `npm start` (the README's main command) on this machine: a swarm converges, a node crashes and the
// swarm heals, a client gets a route, the dashboard URL is on a line of its own and answers.
import { describe, it, expect } from 'vitest'
import { execa } from 'execa'
import { resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

describe('demo', () => {
  it('runs the local swarm end to end and stops cleanly', async () => {
    const child = execa(process.execPath, ['--import', 'tsx', 'sim/demo.ts'], {
      cwd: ROOT,
      env: { PETALMESH_DEMO_EXIT_AFTER_MS: '45000' },
      reject: false,
      buffer: true
    })
    let dashboardChecked = false
    let out = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const url = out.split('\n').find(l => /^http:\/\/127\.0\.0\.1:\d+\/$/.test(l))
      if (url != null && !dashboardChecked) {
        dashboardChecked = true
        void fetch(url).then(async r => { out += `\n[dashboard ${r.status} ${(await r.text()).includes('petalmesh') ? 'ok' : 'bad'}]\n` })
      }
      if (out.includes('Ctrl-C stops everything')) child.kill('SIGINT')
    })
    const res = await child
    expect(res.exitCode, out + String(res.stderr)).toBe(0)
    expect(out).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/m)
    expect(out).toContain('[dashboard 200 ok]')
    expect(out).toMatch(/converged after [\d.]+ s: coverage 100%/)
    expect(out).toMatch(/detected offline after \d+ ms/)
    expect(out).toMatch(/healed after \d+ ms: coverage 100%/)
    expect(out).toMatch(/route in \d+ ms/)
    expect(out).toContain('stopped')
  }, 90_000)
})
