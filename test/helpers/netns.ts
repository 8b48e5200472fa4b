// Linux network namespaces for NAT tests: an "internet" bridge with a public bootstrap host and two
// home routers (iptables MASQUERADE, no inbound), each with one host behind it. Everything lives in
// namespaces this file creates (names start with `pmt-<pid>-`), wired only to each other: no veth end
// in the root namespace, no route to the host, so the "internet" addresses below never leave the lab
// and the host's own interfaces are never touched. Also an HTTP agent per namespace, because a
// daemon's API listens on the loopback of its own namespace, which the test process cannot reach.
import { execa, type ResultPromise } from 'execa'
import { spawnSync } from 'node:child_process'
import { createInterface } from 'node:readline'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export const PREFIX = 'pmt-'

/**
 * The lab's "internet" segment. libp2p ignores private, loopback, CGNAT and documentation ranges for
 * AutoNAT and hole punching (@libp2p/utils isPrivateIp), so a lab built from those can never show
 * them working. 11.0.0.0/8 is globally routable unicast; here it exists only on a bridge inside the
 * lab's own namespaces, which have no link to the host's network.
 */
export const WAN_PREFIX = '11.0.0'

async function run (cmd: string, args: string[], opts: { allowFail?: boolean } = {}): Promise<{ ok: boolean, out: string }> {
  const r = await execa(cmd, args, { reject: false, timeout: 10_000, stdin: 'ignore' })
  const ok = r.exitCode === 0
  if (!ok && opts.allowFail !== true) throw new Error(`${cmd} ${args.join(' ')} failed (${r.exitCode}): ${String(r.stderr)}`)
  return { ok, out: String(r.stdout) }
}

export async function ipIn (ns: string, args: string[]): Promise<void> {
  await run('ip', ['-n', ns, ...args])
}

export async function execIn (ns: string, cmd: string[], allowFail = false): Promise<{ ok: boolean, out: string }> {
  return await run('ip', ['netns', 'exec', ns, ...cmd], { allowFail })
}

/** Why namespaces cannot be used here, or null if they can. */
export async function netnsUnavailable (): Promise<string | null> {
  if (process.platform !== 'linux') return 'not Linux'
  if (process.getuid?.() !== 0) return 'not root (ip netns needs CAP_NET_ADMIN)'
  for (const tool of ['ip', 'iptables']) {
    const r = await execa('sh', ['-c', `command -v ${tool}`], { reject: false })
    if (r.exitCode !== 0) return `${tool} is not installed (apt-get install iproute2 iptables)`
  }
  const probe = `${PREFIX}${process.pid}-probe`
  const add = await run('ip', ['netns', 'add', probe], { allowFail: true })
  if (!add.ok) return 'ip netns add is not permitted on this machine'
  try {
    const nat = await execIn(probe, ['iptables', '-t', 'nat', '-L', '-n'], true)
    if (!nat.ok) return 'iptables nat table is not usable inside a namespace'
  } finally {
    await run('ip', ['netns', 'del', probe], { allowFail: true })
  }
  return null
}

/** Removes namespaces left by earlier runs whose process is gone (ours are `pmt-<pid>-...`). */
export async function removeStaleNamespaces (): Promise<void> {
  const { out } = await run('ip', ['netns', 'list'], { allowFail: true })
  for (const line of out.split('\n')) {
    const name = line.split(' ')[0]
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(name)
    if (m == null) continue
    const pid = Number(m[1])
    let alive = true
    try { process.kill(pid, 0) } catch { alive = false }
    if (!alive) await run('ip', ['netns', 'del', name], { allowFail: true })
  }
}

/** Interface names and IPv4 routes of the root namespace, to check that building a lab added none there. */
export async function rootNetworkState (): Promise<{ links: string[], routes: string[] }> {
  const links = (await run('ip', ['-o', 'link', 'show'], { allowFail: true })).out.split('\n')
    .map(l => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1]).filter((n): n is string => n != null)
  const routes = (await run('ip', ['-4', 'route', 'show'], { allowFail: true })).out.split('\n').filter(l => l.trim() !== '')
  return { links, routes }
}

/** Interface names the lab creates (inside its namespaces only). */
export const LAB_LINKS = ['br0', 'p-boot', 'p-ra', 'p-rb', 'wan0', 'lan0', 'eth0']

export interface NatLab {
  ns: { inet: string, boot: string, ra: string, rb: string, a: string, b: string }
  ip: { boot: string, a: string, b: string, raOut: string, rbOut: string }
  /** The interface of host `a` (or `b`) toward its router. */
  hostIf: string
  gateway: { a: string, b: string }
  destroy: () => Promise<void>
}

/**
 * inet (bridge 11.0.0.0/24, public-looking): boot 11.0.0.1, router A 11.0.0.2, router B 11.0.0.3.
 * Router A: LAN 10.0.1.0/24, MASQUERADE out, forwards only established/related inbound, drops the
 * rest; host a 10.0.1.2. Router B: LAN 10.0.2.0/24, likewise; host b 10.0.2.2. Nothing routes
 * between the LANs; the only default routes are the hosts' (to their router), none leads out of the lab.
 */
export async function createNatLab (): Promise<NatLab> {
  const p = `${PREFIX}${process.pid}-`
  const ns = { inet: `${p}inet`, boot: `${p}boot`, ra: `${p}ra`, rb: `${p}rb`, a: `${p}a`, b: `${p}b` }
  const all = Object.values(ns)
  const destroy = async (): Promise<void> => {
    process.removeListener('exit', destroyNow)
    for (const n of all) await run('ip', ['netns', 'del', n], { allowFail: true })
  }
  // Last resort if the test process exits without afterAll (crash, timeout): namespaces go with it.
  const destroyNow = (): void => { for (const n of all) spawnSync('ip', ['netns', 'del', n], { stdio: 'ignore', timeout: 5000 }) }
  // Idempotent: a lab left by an earlier call in this same process is removed first.
  await destroy()
  process.once('exit', destroyNow)
  try {
    for (const n of all) {
      await run('ip', ['netns', 'add', n])
      await ipIn(n, ['link', 'set', 'lo', 'up'])
    }
    await ipIn(ns.inet, ['link', 'add', 'br0', 'type', 'bridge'])
    await ipIn(ns.inet, ['link', 'set', 'br0', 'up'])
    // veth pairs are created inside the namespaces directly: nothing appears in the root namespace.
    const wire = async (left: string, leftIf: string, right: string, rightIf: string): Promise<void> => {
      await ipIn(left, ['link', 'add', leftIf, 'type', 'veth', 'peer', 'name', rightIf, 'netns', right])
      await ipIn(left, ['link', 'set', leftIf, 'up'])
      await ipIn(right, ['link', 'set', rightIf, 'up'])
    }
    const uplink = async (host: string, tag: string, addr: string): Promise<void> => {
      await wire(ns.inet, `p-${tag}`, host, 'wan0')
      await ipIn(ns.inet, ['link', 'set', `p-${tag}`, 'master', 'br0'])
      await ipIn(host, ['addr', 'add', addr, 'dev', 'wan0'])
    }
    await uplink(ns.boot, 'boot', `${WAN_PREFIX}.1/24`)
    await uplink(ns.ra, 'ra', `${WAN_PREFIX}.2/24`)
    await uplink(ns.rb, 'rb', `${WAN_PREFIX}.3/24`)
    const home = async (router: string, host: string, lan: string): Promise<void> => {
      await wire(router, 'lan0', host, 'eth0')
      await ipIn(router, ['addr', 'add', `${lan}.1/24`, 'dev', 'lan0'])
      await ipIn(host, ['addr', 'add', `${lan}.2/24`, 'dev', 'eth0'])
      await ipIn(host, ['route', 'add', 'default', 'via', `${lan}.1`])
      await execIn(router, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'])
      await execIn(router, ['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan0', '-j', 'MASQUERADE'])
      await execIn(router, ['iptables', '-A', 'FORWARD', '-i', 'wan0', '-o', 'lan0', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT'])
      await execIn(router, ['iptables', '-A', 'FORWARD', '-i', 'wan0', '-o', 'lan0', '-j', 'DROP'])
    }
    await home(ns.ra, ns.a, '10.0.1')
    await home(ns.rb, ns.b, '10.0.2')
  } catch (err) {
    await destroy()
    throw err
  }
  return {
    ns,
    ip: { boot: `${WAN_PREFIX}.1`, a: '10.0.1.2', b: '10.0.2.2', raOut: `${WAN_PREFIX}.2`, rbOut: `${WAN_PREFIX}.3` },
    hostIf: 'eth0',
    gateway: { a: '10.0.1.1', b: '10.0.2.1' },
    destroy
  }
}

/** A process inside a namespace that performs HTTP requests there for the test (JSON lines on stdin/stdout). */
export interface NsAgent {
  request: <T>(method: 'GET' | 'POST', url: string) => Promise<{ status: number, body: T }>
  getJson: <T>(baseUrl: string, path: string) => Promise<T>
  close: () => void
}

const AGENT_SOURCE = `
import { createInterface } from 'node:readline'
const rl = createInterface({ input: process.stdin })
rl.on('line', async (line) => {
  const { id, method, url } = JSON.parse(line)
  try {
    const res = await fetch(url, { method, signal: AbortSignal.timeout(8000) })
    const text = await res.text()
    let body; try { body = JSON.parse(text) } catch { body = text }
    process.stdout.write(JSON.stringify({ id, status: res.status, body }) + '\\n')
  } catch (err) {
    process.stdout.write(JSON.stringify({ id, error: String(err && err.message || err) }) + '\\n')
  }
})
rl.on('close', () => process.exit(0))
`

export async function startAgent (ns: string, dir: string): Promise<NsAgent> {
  const script = join(dir, 'ns-agent.mjs')
  await writeFile(script, AGENT_SOURCE)
  const proc: ResultPromise = execa('ip', ['netns', 'exec', ns, process.execPath, script], { reject: false, buffer: false, stdin: 'pipe', stdout: 'pipe', stderr: 'ignore', timeout: 300_000 })
  const pending = new Map<number, { resolve: (v: { status: number, body: unknown }) => void, reject: (e: Error) => void }>()
  let next = 0
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    const msg = JSON.parse(line) as { id: number, status?: number, body?: unknown, error?: string }
    const p = pending.get(msg.id)
    if (p == null) return
    pending.delete(msg.id)
    if (msg.error != null) p.reject(new Error(msg.error))
    else p.resolve({ status: msg.status ?? 0, body: msg.body })
  })
  void proc.then(() => { for (const p of pending.values()) p.reject(new Error('agent exited')); pending.clear() })
  const request = async <T>(method: 'GET' | 'POST', url: string): Promise<{ status: number, body: T }> => {
    const id = next++
    const r = new Promise<{ status: number, body: unknown }>((resolve, reject) => {
      pending.set(id, { resolve, reject })
      setTimeout(() => { if (pending.delete(id)) reject(new Error(`agent request timed out: ${method} ${url}`)) }, 10_000)
    })
    proc.stdin!.write(JSON.stringify({ id, method, url }) + '\n')
    return await r as { status: number, body: T }
  }
  return {
    request,
    getJson: async <T>(baseUrl: string, path: string): Promise<T> => {
      const r = await request<T>('GET', new URL(path, baseUrl).toString())
      if (r.status !== 200) throw new Error(`GET ${path}: HTTP ${r.status} ${JSON.stringify(r.body)}`)
      return r.body
    },
    close: () => { proc.stdin?.end(); proc.kill('SIGKILL') }
  }
}
