// The dashboard in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core): every block
// shows in the coverage map, and killing a node changes the map within a few seconds. Screenshots go to
// test-output/ (git-ignored). Skips, saying why, when Chromium is not installed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join, resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import { startHttpApi, type HttpApi } from '../../src/node/http-api.ts'
import { startSwarm, type Swarm } from '../../sim/swarm.ts'
import { BLOCKS, startApiSwarm, type ApiSwarm } from './helpers.ts'
import { plannerSettingsOf } from '../../src/node/planner-check.ts'
import { keyAndId, record, signed } from '../membership/helpers.ts'

const CHROMIUM = '/usr/bin/chromium'
const OUT = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), 'test-output')
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const haveChromium = existsSync(CHROMIUM)

if (!haveChromium) {
  console.warn(`dashboard browser tests skipped: ${CHROMIUM} not found (install it with: apt-get update && apt-get install -y chromium)`)
}

async function launch (): Promise<Browser> {
  return await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true, timeout: 30_000 })
}

/** Opens the dashboard and collects page errors (a broken script must fail the test). */
async function openDashboard (browser: Browser, url: string, viewport = { width: 1440, height: 1000 }): Promise<{ page: Page, errors: string[] }> {
  const page = await browser.newPage({ viewport })
  const errors: string[] = []
  page.on('pageerror', err => { errors.push(err.message) })
  page.on('console', msg => { if (msg.type() === 'error' && !/favicon/.test(msg.text())) errors.push(msg.text()) })
  page.on('requestfailed', req => {
    // The event stream is cut when the API closes at the end; anything else failing is a bug.
    if (!req.url().includes('/v1/events')) errors.push(`request failed: ${req.url()}`)
  })
  await page.goto(url, { waitUntil: 'load', timeout: 15_000 })
  return { page, errors }
}

describe.skipIf(!haveChromium)('dashboard in headless Chromium', () => {
  let s: ApiSwarm
  let browser: Browser
  beforeAll(async () => {
    await mkdir(OUT, { recursive: true })
    ;[s, browser] = await Promise.all([startApiSwarm(), launch()])
  })
  afterAll(async () => {
    await browser?.close()
    await s?.stop()
  })

  it('shows every block in the coverage map, and a killed node within a few seconds', async () => {
    const { page, errors } = await openDashboard(browser, s.api.url)
    // Every block has a cell in the servers-per-block strip, each with at least one server.
    await page.waitForFunction((n) => document.querySelectorAll('#coverage-map rect.rep').length === n, BLOCKS, { timeout: 10_000 })
    const reps = await page.$$eval('#coverage-map rect.rep', els => els.map(e => ({ block: Number(e.getAttribute('data-block')), n: Number(e.getAttribute('data-replication')) })))
    expect(reps.map(r => r.block)).toEqual(Array.from({ length: BLOCKS }, (_, i) => i))
    expect(reps.every(r => r.n >= 1)).toBe(true)
    // One row per server, this node's included.
    await page.waitForFunction(() => document.querySelectorAll('#coverage-map g.row').length === 4, undefined, { timeout: 10_000 })
    const rowPeers = await page.$$eval('#coverage-map g.row', els => els.map(e => e.getAttribute('data-peer')))
    expect(new Set(rowPeers)).toEqual(new Set(s.swarm.nodes.map(n => n.peerId)))
    await page.waitForSelector('body[data-loaded="true"]')
    await page.waitForSelector('#conn[data-state="live"]', { timeout: 10_000 })
    await page.waitForSelector('#route-hops li[data-peer]', { timeout: 10_000 })
    expect(await page.textContent('#kpi-coverage dd')).toBe('100%')
    expect(await page.$$eval('#peers tbody tr', rows => rows.length)).toBe(4)
    expect(await page.textContent('#self-facts')).toContain('Plannersame as every server in view')
    // The route mode switch and the log panel work.
    await page.click('#route-panel button[data-mode="max-throughput"]')
    await page.waitForSelector('#route-panel button[data-mode="max-throughput"][aria-pressed="true"]')
    await page.waitForSelector('#route-hops li[data-peer]', { timeout: 10_000 })
    await page.click('#logs-details summary')
    await page.waitForFunction(() => (document.querySelector('#logs')?.textContent ?? '').includes('HTTP API listening'), undefined, { timeout: 10_000 })
    await page.screenshot({ path: join(OUT, 'dashboard.png'), fullPage: true })

    // A server that plans differently (here: another minGain) is named under "This node".
    const odd = s.swarm.nodes[3]
    await odd.membership.updateSelf({ planner: { ...plannerSettingsOf(odd.config.swarm), minGain: 0.2 } })
    await page.waitForFunction(() => (document.querySelector('#self-facts')?.textContent ?? '').includes('1 server plans differently'), undefined, { timeout: 10_000 })
    expect(await page.textContent('#self-facts')).toContain('minGain 0.01 here, 0.2 there')

    const victim = s.swarm.nodes[2] // 16:24: blocks 20-23 lose their only server
    const t0 = Date.now()
    await victim.stop({ graceful: false })
    await page.waitForFunction((peer) => {
      const row = document.querySelector(`#coverage-map g.row[data-peer="${peer}"]`)
      const lost = [...document.querySelectorAll('#coverage-map rect.rep')].filter(r => r.getAttribute('data-replication') === '0').length
      return row?.getAttribute('data-liveness') === 'offline' && lost === 4
    }, victim.peerId, { timeout: 5000, polling: 100 })
    const changedMs = Date.now() - t0
    expect(changedMs).toBeLessThan(5000)
    const lost = await page.$$eval('#coverage-map rect.rep[data-replication="0"]', els => els.map(e => Number(e.getAttribute('data-block'))))
    expect(lost).toEqual([20, 21, 22, 23])
    // The live feed shows it, and the header no longer says ready.
    await page.waitForSelector('#events li[data-type="member-offline"]', { timeout: 5000 })
    await page.waitForFunction(() => document.querySelector('#kpi-ready dd')?.textContent === 'not ready', undefined, { timeout: 5000 })
    await page.waitForSelector('#route-hops li.route-error', { timeout: 10_000 })
    await page.screenshot({ path: join(OUT, 'dashboard-after-kill.png'), fullPage: true })
    expect(errors).toEqual([])
    await page.close()
  })
})

describe.skipIf(!haveChromium)('dashboard at scale', () => {
  const SERVERS = 30
  const L = 80
  let swarm: Swarm
  let api: HttpApi
  let browser: Browser
  beforeAll(async () => {
    await mkdir(OUT, { recursive: true })
    // Starting 30 libp2p nodes in one process takes minutes; the dashboard only reads the view, so one
    // real node holds 29 signed member records (silence timeouts long enough that they stay alive).
    ;[swarm, browser] = await Promise.all([
      startSwarm({ nodes: 1, model: 'bigscience/bloom-petals', totalBlocks: L, heartbeatMs: 1000, suspectAfterMs: 600_000, offlineAfterMs: 1_200_000, spec: () => ({ span: '0:12', throughput: 180 }), self: () => ({ publicName: 'this-box' }) }),
      launch()
    ])
    const node = swarm.nodes[0]
    const now = Date.now()
    for (let i = 1; i < SERVERS; i++) {
      const { key, id } = await keyAndId()
      const len = 10 + ((i * 7) % 15)
      const start = Math.max(0, Math.min(L - len, Math.floor((i * L) / SERVERS) - (i % 3)))
      const loading = i % 9 === 4
      const rec = record(id, {
        model: 'bigscience/bloom-petals',
        totalBlocks: L,
        span: { start, end: start + len },
        capacity: len,
        state: loading ? 'loading' : 'online',
        loading: loading ? { done: 2 + (i % 5), total: len } : null,
        throughput: 40 + ((i * 37) % 160),
        publicName: i % 2 === 0 ? `gpu-box-${i}` : '',
        tokensTotal: i * 1234,
        seq: BigInt(now) * 1000n + BigInt(i),
        timestampMs: now
      })
      node.membership.view.applyRecord(rec, await signed(key, rec), now, { kind: 'gossip' })
      if (i === 7) node.membership.view.markSuspect(id, 'no heartbeat for 2600 ms')
      if (i === 13) node.membership.view.markOffline(id, 'connection closed, ping failed', now)
    }
    api = await startHttpApi(node, { host: '127.0.0.1', port: 0, processMetrics: false })
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
    await api?.close()
    await swarm?.stop()
  })

  it('stays legible at 80 blocks × 30 servers', async () => {
    const { page, errors } = await openDashboard(browser, api.url, { width: 1600, height: 1100 })
    await page.waitForFunction((n) => document.querySelectorAll('#coverage-map rect.rep').length === n, L, { timeout: 15_000 })
    await page.waitForFunction((n) => document.querySelectorAll('#coverage-map g.row').length === n, SERVERS, { timeout: 15_000 })
    // Cells must stay big enough to read and hover.
    const cell = await page.$eval('#coverage-map rect.rep', e => Number(e.getAttribute('width')))
    expect(cell).toBeGreaterThanOrEqual(7)
    expect(await page.$$eval('#coverage-map g.row[data-state="loading"]', els => els.length)).toBeGreaterThan(0)
    expect(await page.$$eval('#coverage-map g.row[data-liveness="offline"]', els => els.length)).toBe(1)
    await page.waitForSelector('#route-hops li[data-peer]', { timeout: 15_000 })
    await page.screenshot({ path: join(OUT, 'dashboard-80x30.png'), fullPage: true })
    await page.locator('#coverage-panel').screenshot({ path: join(OUT, 'dashboard-80x30-map.png') })
    await page.emulateMedia({ colorScheme: 'dark' })
    await page.screenshot({ path: join(OUT, 'dashboard-80x30-dark.png'), fullPage: true })
    expect(errors).toEqual([])
    await page.close()
  })
})

if (!haveChromium) {
  describe('dashboard in headless Chromium', () => {
    it.skip(`skipped: ${CHROMIUM} not found (apt-get install -y chromium)`, () => {})
  })
}
