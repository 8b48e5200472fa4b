// Petals port probing: TCP targets from multiaddrs, real loopback connects, flagging after N failures.
import { describe, it, expect, afterEach } from 'vitest'
import { createServer, type Server } from 'node:net'
import { tcpTarget, tcpAnswers, probePetalsAddrs, probeable, PetalsProber } from '../../src/node/petals-probe.ts'
import type { Member } from '../../src/node/swarm-view.ts'

const servers: Server[] = []
afterEach(async () => { await Promise.all(servers.splice(0).map(async s => await new Promise(resolve => s.close(resolve)))) })

async function listening (): Promise<number> {
  const s = createServer(socket => { socket.end() })
  servers.push(s)
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  return (s.address() as { port: number }).port
}

/** A port nothing listens on: bind, read the port, close. */
async function closedPort (): Promise<number> {
  const s = createServer()
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as { port: number }).port
  await new Promise(resolve => s.close(resolve))
  return port
}

function member (peerId: string, addrs: string[], state: Member['state'] = 'online'): Member {
  return {
    peerId,
    state,
    liveness: 'alive',
    record: { span: { start: 0, end: 4 }, petals: { peerId: 'Qm', multiaddrs: addrs, torchDtype: '', quantType: '', adapters: [], state: 'online' } }
  } as unknown as Member
}

describe('tcpTarget', () => {
  it('reads host and port from TCP multiaddrs and nothing else', () => {
    expect(tcpTarget('/ip4/127.0.0.1/tcp/31330/p2p/QmZijSrKQ7mjGY2Bxcbw941FnbwAytxzK8h8anhNtheRkN')).toEqual({ host: '127.0.0.1', port: 31330 })
    expect(tcpTarget('/ip6/::1/tcp/5')).toEqual({ host: '::1', port: 5 })
    expect(tcpTarget('/dns4/example.org/tcp/80')).toEqual({ host: 'example.org', port: 80 })
    expect(tcpTarget('/ip4/127.0.0.1/udp/5/quic-v1')).toBeNull()
    expect(tcpTarget('/ip4/127.0.0.1/tcp/0')).toBeNull()
    expect(tcpTarget('garbage')).toBeNull()
  })
})

describe('probeable', () => {
  it('probes online members with a span, but not those reached through a relay (their ports cannot be dialled)', () => {
    const m = member('a', ['/ip4/127.0.0.1/tcp/1'])
    expect(probeable(m)).toBe(true)
    expect(probeable({ ...m, record: { ...m.record, reachability: 'direct' } } as Member)).toBe(true)
    expect(probeable({ ...m, record: { ...m.record, reachability: 'relayed' } } as Member)).toBe(false)
    expect(probeable(member('b', [], 'loading'))).toBe(false)
  })
})

describe('probing a loopback port', () => {
  it('answers true for a listening port, false for a closed one', async () => {
    expect(await tcpAnswers('127.0.0.1', await listening(), 1000)).toBe(true)
    expect(await tcpAnswers('127.0.0.1', await closedPort(), 1000)).toBe(false)
    const open = await listening()
    expect(await probePetalsAddrs([`/ip4/127.0.0.1/tcp/${await closedPort()}`, `/ip4/127.0.0.1/tcp/${open}`], 1000)).toEqual({ ok: true, error: null })
    expect((await probePetalsAddrs([], 1000)).error).toMatch(/no Petals address/)
  })
})

describe('PetalsProber', () => {
  it('flags a member whose port does not answer after `failures` probes, clears nothing for an honest one, and re-probes on change', async () => {
    const honest = member('honest', [`/ip4/127.0.0.1/tcp/${await listening()}`])
    const liar = member('liar', [`/ip4/127.0.0.1/tcp/${await closedPort()}`])
    const standby = member('standby', [], 'standby')
    const members = [honest, liar, standby]
    const view = { all: () => members, get: (p: string) => members.find(m => m.peerId === p) }
    const prober = new PetalsProber({ view, timeoutMs: 500, intervalMs: 1000, failures: 2, concurrency: 4, scanMs: 20 })
    const flagged: string[] = []
    prober.on('flagged', p => { flagged.push(p) })
    prober.start()
    try {
      expect(await prober.settled(5000)).toBe(true)
      expect([...prober.unreachable()]).toEqual(['liar'])
      expect(flagged).toEqual(['liar'])
      expect(prober.statusOf('honest')).toMatchObject({ reachable: true, flagged: false })
      expect(prober.statusOf('standby')).toBeUndefined()
      // The liar fixes its port (a new announced address): re-probed at once, flag cleared.
      const cleared: string[] = []
      prober.on('cleared', p => { cleared.push(p) })
      ;(liar.record.petals as { multiaddrs: string[] }).multiaddrs = [`/ip4/127.0.0.1/tcp/${await listening()}`]
      expect(await prober.settled(5000)).toBe(true)
      expect(prober.unreachable().size).toBe(0)
      expect(cleared).toEqual(['liar'])
    } finally {
      prober.stop()
    }
  })
})
