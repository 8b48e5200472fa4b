import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { LineSplitter } from '../../src/petals-bridge/line-splitter.ts'
import { groupAlive, groupMembers, killGroup, signalGroup, waitGroupGone } from '../../src/petals-bridge/process-group.ts'
import { RotatingLogFile } from '../../src/petals-bridge/rotating-log.ts'
import { prepareWorkDir } from '../../src/petals-bridge/petals-runner.ts'
import { sleep, tempDir } from './helpers.ts'

describe('LineSplitter', () => {
  it('splits on \\n, \\r\\n and tqdm\'s \\r, across chunks and multi-byte characters', () => {
    const s = new LineSplitter()
    expect(s.push('Jul 23 [INFO] one\nDownloading:  10%|█')).toEqual(['Jul 23 [INFO] one'])
    const bar = Buffer.from('█|\rDownloading: 100%|██|\r\nlast')
    expect(s.push(bar.subarray(0, 2))).toEqual([])
    expect(s.push(bar.subarray(2))).toEqual(['Downloading:  10%|██|', 'Downloading: 100%|██|'])
    expect(s.end()).toEqual(['last'])
  })
})

describe('RotatingLogFile', () => {
  it('rotates by size and keeps maxFiles old files', () => {
    const { dir, cleanup } = tempDir()
    try {
      const path = join(dir, 'logs', 'petals.log')
      const log = new RotatingLogFile(path, { maxBytes: 100, maxFiles: 2 })
      for (let i = 0; i < 20; i++) log.write(`line ${String(i).padStart(2, '0')} ${'x'.repeat(20)}`)
      log.close()
      expect(readFileSync(path, 'utf8')).toMatch(/line 19/)
      expect(existsSync(`${path}.1`)).toBe(true)
      expect(existsSync(`${path}.2`)).toBe(true)
      expect(existsSync(`${path}.3`)).toBe(false)
      expect(readFileSync(path, 'utf8').length).toBeLessThanOrEqual(100)
    } finally {
      cleanup()
    }
  })
})

describe('working directory', () => {
  it('is emptied before each launch (Petals reads ./config.yml silently)', () => {
    const { dir, cleanup } = tempDir()
    try {
      const work = join(dir, 'run')
      mkdirSync(join(work, 'sub'), { recursive: true })
      writeFileSync(join(work, 'config.yml'), 'num_blocks: 3\n')
      prepareWorkDir(work)
      expect(existsSync(join(work, 'config.yml'))).toBe(false)
      expect(existsSync(join(work, 'sub'))).toBe(false)
      expect(existsSync(work)).toBe(true)
    } finally {
      cleanup()
    }
  })
})

describe('process groups', () => {
  it('finds every live member, signals the group and waits until nothing is left', async () => {
    // a detached shell (group leader) with a child that ignores SIGINT, like p2pd
    const leader = spawn('sh', ['-c', 'trap "" INT; sleep 30 & wait'], { detached: true, stdio: 'ignore' })
    const pgid = leader.pid as number
    const exited = new Promise((resolve) => leader.on('exit', resolve))
    await sleep(100)
    expect(groupMembers(pgid).length).toBeGreaterThanOrEqual(2)
    expect(groupAlive(pgid)).toBe(true)
    signalGroup(pgid, 'SIGINT')
    expect(await waitGroupGone(pgid, 200)).toBe(false)
    expect(await killGroup(pgid, 2_000)).toEqual([])
    expect(groupAlive(pgid)).toBe(false) // zombies waiting for their reaper do not count
    await exited
  })
})
