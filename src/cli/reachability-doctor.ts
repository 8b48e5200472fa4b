// The reachability part of `petalmesh doctor`: asks the running node (its API) how peers reach it
// and says which port to forward when they cannot dial it.
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { reachabilityReport, type ReachabilityReport } from '../node/reachability/report.ts'
import type { ReachabilityStatus } from '../node/reachability/monitor.ts'

export interface ReachabilityDoctorOptions {
  /** API URL of the node; default: from <dataDir>/api.json. */
  api?: string
  dataDir?: string | null
  env: NodeJS.ProcessEnv
  /** `listen` from the config file, if it sets one. */
  listen?: readonly string[] | null
  petalsPort: number
}

const DEFAULT_LISTEN_PORT = 31400

export async function reachabilityDoctor (opts: ReachabilityDoctorOptions): Promise<ReachabilityReport & { status: ReachabilityStatus | null }> {
  const configuredPort = (opts.listen ?? []).map(a => /\/tcp\/(\d+)/.exec(a)?.[1]).map(Number).find(p => p > 0) ?? (opts.listen == null ? DEFAULT_LISTEN_PORT : null)
  let base = opts.api
  let unavailable: string | undefined
  if (base == null) {
    const dataDir = opts.dataDir ?? opts.env.PETALMESH_DATA_DIR ?? join(homedir(), '.petalmesh')
    try {
      base = (JSON.parse(await readFile(join(dataDir, 'api.json'), 'utf8')) as { url: string }).url
    } catch {
      unavailable = `no running node for data dir ${dataDir}`
    }
  }
  let status: ReachabilityStatus | null = null
  if (base != null) {
    try {
      const res = await fetch(new URL('v1/reachability', base.endsWith('/') ? base : base + '/'), { signal: AbortSignal.timeout(3000) })
      const body = await res.json() as ReachabilityStatus & { error?: string }
      if (res.ok) status = body
      else unavailable = `the node's API answered ${res.status}: ${body.error ?? ''}`
    } catch (err) {
      unavailable = `cannot reach the node's API at ${base}: ${(err as Error).message}`
    }
  }
  return { ...reachabilityReport({ status, unavailable, configuredPort, petalsPort: opts.petalsPort }), status }
}
