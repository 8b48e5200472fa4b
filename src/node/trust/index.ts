// The trust capability for the daemon: private swarm key (pnet) and admission policy.
//   const trust = await createTrust(config.trust, { self, onWarn, onError })
//   createPetalmeshLibp2p({ ..., connectionGater: trust.gater, connectionProtector: trust.connectionProtector })
//   trust.attach(libp2p)      // hang up on peers a list change makes inadmissible
//   new Membership({ ..., admitted: (id) => trust.policy.isAdmitted(id) })
//   trust.close()             // on stop
import { resolve } from 'node:path'
import { preSharedKey } from '@libp2p/pnet'
import type { ComponentLogger, ConnectionGater, ConnectionProtector } from '@libp2p/interface'
import { PetalmeshError } from '../../util/errors.ts'
import type { TrustConfig } from './config.ts'
import { AdmissionPolicy } from './policy.ts'
import { readListFile, watchListFile, type ListFileWatcher } from './list-file.ts'
import { createAdmissionGater, disconnectInadmissible, type HangUpTarget } from './gater.ts'
import { loadSwarmKey } from './swarm-key.ts'
import { TempBans } from './bans.ts'
import { PeerPenalties } from './penalties.ts'

export { trustConfigSchema, isPeerIdString, canonicalPeerId, type TrustConfig } from './config.ts'
export { AdmissionPolicy, parseAdmissionLists, type AdmissionLists, type AdmissionCheck, type AdmissionListener } from './policy.ts'
export { readListFile, watchListFile, type ListFileWatcher, type ListFileWatcherOptions } from './list-file.ts'
export { createAdmissionGater, disconnectInadmissible, type HangUpTarget } from './gater.ts'
export {
  generateSwarmKey, parseSwarmKey, swarmKeyProblem, loadSwarmKey, readSwarmKeyFile, writeSwarmKeyFile, swarmKeyFingerprint,
  SWARM_KEY_ENV, SWARM_KEY_HEADER, SWARM_KEY_CODEC, type LoadedSwarmKey
} from './swarm-key.ts'

export { RateLimiter, type TokenBucketOptions } from './rate-limit.ts'
export { PeerPenalties, type PenaltyOptions } from './penalties.ts'
export { TempBans, type TempBanOptions } from './bans.ts'
export { startGuard, guardVerdict, type Guard, type GuardEvent, type GuardOptions, type GuardThresholds } from './guard.ts'
export { GossipLimits, limitInboundStreams, type GossipKind, type GossipVerdict } from './limits.ts'

export type ConnectionProtectorFactory = (components: { logger: ComponentLogger }) => ConnectionProtector

export interface TrustOptions {
  /** Non-fatal problems at start (e.g. a swarm key file readable by others). */
  onWarn?: (message: string) => void
  /** A list file reload failed; the previous lists stay in force. Also a failed hang-up sweep. */
  onError?: (err: PetalmeshError) => void
  /** The list file was re-read and the effective lists changed. */
  onReload?: (lists: { allow: string[], deny: string[] }) => void
  /** Peers a list change disconnected (after attach). */
  onDisconnect?: (peerIds: string[]) => void
  /** This node's peer id: always admitted, even when an allowlist omits it. */
  self?: string
  /** Where PETALMESH_SECRET_SWARM_KEY is read (default process.env). */
  env?: NodeJS.ProcessEnv
  /** List file poll period (default 2000 ms) and change debounce (default 100 ms). */
  pollMs?: number
  debounceMs?: number
  /** Clock for bans (tests). */
  now?: () => number
}

export interface Trust {
  /** Pass to createPetalmeshLibp2p's connectionProtector; absent when no swarm key is configured. */
  connectionProtector?: ConnectionProtectorFactory
  /** Pass to createPetalmeshLibp2p's connectionGater. */
  gater: ConnectionGater
  /** Live admission policy (the configured lists). */
  policy: AdmissionPolicy
  /** Temporary bans of hostile peers (the guard adds them); the gater refuses banned peers. */
  bans: TempBans
  /** Misbehaviour points per peer (feed gossipsub's app score and the guard). */
  penalties: PeerPenalties
  /** Admitted by the lists and not banned right now: what the gater and the membership validators ask. */
  isAdmitted: (peerId: string) => boolean
  /** Where the swarm key came from and its fingerprint (never the key), or null for an open swarm. */
  swarmKey: { source: string, fingerprint: string } | null
  /** Hangs up on inadmissible peers now and after every list change; returns the detach function. */
  attach: (node: HangUpTarget) => () => void
  /** Stops watching the list file and detaches every node. Idempotent. */
  close: () => void
}

/**
 * Builds the trust machinery from the `trust` config section. Throws a ConfigError (exit code 2)
 * for a malformed swarm key, an unreadable or malformed list file, or a bad peer id.
 */
export async function createTrust (config: TrustConfig, opts: TrustOptions = {}): Promise<Trust> {
  const onError = (err: PetalmeshError): void => { try { opts.onError?.(err) } catch { /* ignore */ } }
  const key = await loadSwarmKey({ file: config.swarmKeyFile === '' ? undefined : resolve(config.swarmKeyFile), env: opts.env })
  if (key?.warning != null) opts.onWarn?.(key.warning)

  const policy = new AdmissionPolicy({ allow: config.allow, deny: config.deny, self: opts.self })
  let watcher: ListFileWatcher | null = null
  if (config.listFile !== '') {
    const path = resolve(config.listFile)
    const first = await readListFile(path)
    policy.setFileLists(first.lists)
    watcher = watchListFile(path, first.text, {
      pollMs: opts.pollMs,
      debounceMs: opts.debounceMs,
      onError,
      onLists: (lists) => {
        if (policy.setFileLists(lists)) opts.onReload?.(policy.lists())
      }
    })
  }

  const bans = new TempBans({ baseMs: config.guard.banMs, maxMs: config.guard.maxBanMs })
  const penalties = new PeerPenalties()
  const now = opts.now ?? Date.now
  const isAdmitted = (peerId: string): boolean => policy.isAdmitted(peerId) && (peerId === opts.self || !bans.isBanned(peerId, now()))

  const detachers = new Set<() => void>()
  const attach = (node: HangUpTarget): () => void => {
    const sweep = (): void => {
      void disconnectInadmissible(node, policy).then(ids => {
        if (ids.length > 0) opts.onDisconnect?.(ids)
      }, (err: unknown) => {
        onError(new PetalmeshError(`hanging up on peers no longer admitted failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err }))
      })
    }
    const off = policy.onChange(sweep)
    sweep()
    const detach = (): void => { off(); detachers.delete(detach) }
    detachers.add(detach)
    return detach
  }

  return {
    ...(key != null ? { connectionProtector: preSharedKey({ psk: key.psk }) } : {}),
    gater: createAdmissionGater({ isAdmitted }),
    policy,
    bans,
    penalties,
    isAdmitted,
    swarmKey: key != null ? { source: key.source, fingerprint: key.fingerprint } : null,
    attach,
    close: () => {
      watcher?.close()
      watcher = null
      for (const d of [...detachers]) d()
    }
  }
}
