// End to end through real `petalmesh` processes: a private swarm, an admission list file edited
// while the daemons run, and a malformed key refused at start. These tests activate themselves once
// the trust section is wired into the daemon config (configSchema has a `trust` key).
import { afterAll, describe, expect, it } from 'vitest'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { configSchema } from '../../src/node/config.ts'
import {
  killAllDaemons, loopbackAddr, makeTempDir, pollUntil, removeTempDirs, runCli, startDaemon, type Daemon
} from '../helpers/cli.ts'

const wired = 'trust' in configSchema.shape

afterAll(async () => {
  await killAllDaemons()
  await removeTempDirs()
})

const FAST = ['--set', 'network.redialMs=300', '--set', 'swarm.heartbeatMs=300', '--set', 'swarm.suspectAfterMs=1500', '--set', 'swarm.offlineAfterMs=3000']

async function peerIds (d: Daemon): Promise<string[]> {
  return (await d.peers()).filter(p => p.liveness === 'alive').map(p => p.peerId)
}

describe.skipIf(!wired)('trust through the daemon', () => {
  it('a private swarm: members with the key mesh, an outsider without it gets no peer; a list edit disconnects a member', async () => {
    const dir = await makeTempDir('petalmesh-trust-e2e-')
    const keyFile = join(dir, 'swarm.key')
    const gen = await runCli(['swarm-key', '--out', keyFile])
    expect(gen.exitCode, gen.stderr).toBe(0)
    const listFile = join(dir, 'lists.yaml')
    await writeFile(listFile, 'deny: []\n')

    const a = await startDaemon({ args: [...FAST, '--set', `trust.swarmKeyFile=${keyFile}`, '--set', `trust.listFile=${listFile}`] })
    const aStatus = await a.waitReady()
    const bootstrap = [loopbackAddr(aStatus)]
    const b = await startDaemon({ bootstrap, args: [...FAST, '--set', `trust.swarmKeyFile=${keyFile}`] })
    const outsider = await startDaemon({ bootstrap, args: FAST })
    const [bStatus] = await Promise.all([b.waitReady(), outsider.waitReady()])

    await pollUntil(async () => (await peerIds(a)).includes(bStatus.peerId), { timeoutMs: 10_000, what: 'B alive in A\'s view' })
    expect((await a.status()).peers).toBe(1)
    expect((await outsider.status()).peers).toBe(0)

    await writeFile(listFile, `deny: [${bStatus.peerId}]\n`)
    await pollUntil(async () => (await a.status()).peers === 0, { timeoutMs: 5000, what: 'A to hang up on B once B is denied' })
    await a.waitForLog(l => l.msg === 'disconnected peers that are no longer admitted', { timeoutMs: 2000, what: 'hang-up log line' })
    // B's redial loop keeps trying; A keeps refusing.
    await new Promise(resolve => setTimeout(resolve, 1000))
    expect((await a.status()).peers).toBe(0)
  })

  it('a malformed swarm key file stops the start with exit code 2 and a message naming the file', async () => {
    const dir = await makeTempDir('petalmesh-trust-e2e-')
    const keyFile = join(dir, 'bad.key')
    await writeFile(keyFile, '/key/swarm/psk/1.0.0/\n/base16/\nabc\n', { mode: 0o600 })
    const r = await runCli(['config', 'print', '--set', `trust.swarmKeyFile=${keyFile}`])
    expect(r.exitCode, r.stderr).toBe(0)
    const d = await startDaemon({ args: ['--set', `trust.swarmKeyFile=${keyFile}`] })
    const exit = await d.waitExit(15_000)
    expect(exit.code).toBe(2)
    expect(d.logText()).toContain(`trust.swarmKeyFile = "${keyFile}"`)
    expect(d.logText()).toContain('line 3 must be 64 hex digits')
  })
})
