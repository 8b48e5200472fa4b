// createPetalsBackend: the real backend (a supervised `python -m petals.cli.run_server`).

import { isAbsolute, join, resolve } from 'node:path'
import { buildServerCommand } from './command.ts'
import type { PetalsReachabilityHint } from './reachability-args.ts'
import { parsePetalsConfig } from './config.ts'
import type { PetalsConfig, PetalsConfigInput } from './config.ts'
import { ensureIdentity, petalsMultiaddrs } from './identity.ts'
import { silentLogger } from './logger.ts'
import type { BridgeLogger } from './logger.ts'
import { loadModelMetadata } from './model-metadata.ts'
import type { FetchLike, ModelMetadata } from './model-metadata.ts'
import { PetalsProcessRunner, reapStaleServer } from './petals-runner.ts'
import { RotatingLogFile } from './rotating-log.ts'
import { SupervisedBackend } from './supervisor.ts'
import { resolveToken } from './token.ts'
import type { PetalsBackend } from './types.ts'

export interface PetalsBackendOptions {
  /** The `petals` section of the node's configuration (parsed here if it is not already). */
  config: PetalsConfigInput | PetalsConfig
  /** The node's data directory: holds petals/identity.key, petals/logs/ and petals/run/ (the clean cwd). */
  dataDir: string
  logger?: BridgeLogger
  /** Model metadata already loaded by the caller (otherwise read from config.json here). */
  metadata?: ModelMetadata
  /** Extra environment for the Petals process and the config.json lookup (e.g. HF_HOME). */
  env?: Record<string, string | undefined>
  /** Interface addresses for the announced multiaddrs when neither publicIp nor announceMaddrs is set. */
  hosts?: string[]
  /** Fetch config.json from the Hugging Face Hub if it is not cached (default true). */
  allowDownload?: boolean
  fetch?: FetchLike
  /** How the node is reachable now, read at each launch (picks --public_ip; see reachability-args.ts). */
  reachability?: () => PetalsReachabilityHint | null
}

/** Paths of the bridge's files inside the node's data directory. */
export function petalsPaths (dataDir: string, config: Pick<PetalsConfig, 'identityPath'>): { identityPath: string, workDir: string, logPath: string, pidFile: string } {
  const root = join(resolve(dataDir), 'petals')
  const identityPath = config.identityPath == null
    ? join(root, 'identity.key')
    : isAbsolute(config.identityPath) ? config.identityPath : resolve(config.identityPath)
  return { identityPath, workDir: join(root, 'run'), logPath: join(root, 'logs', 'petals.log'), pidFile: join(root, 'server.pid.json') }
}

/**
 * Create the real Petals backend. Reads the model's config.json (refusing unsupported models), creates or
 * loads the server identity (so its peer ID is known before launch), checks that the configuration yields a
 * valid command (throws a PetalsBridgeError subclass otherwise) and stops a server left over by a previous
 * daemon that died abruptly. Nothing is started until setSpan().
 */
export async function createPetalsBackend (opts: PetalsBackendOptions): Promise<PetalsBackend> {
  const config = parsePetalsConfig(opts.config)
  const logger = opts.logger ?? silentLogger
  const env = { ...process.env, ...opts.env }
  const metadata = opts.metadata ?? await loadModelMetadata(config.model, {
    revision: config.revision,
    cacheDirs: [config.cacheDir],
    env,
    allowDownload: opts.allowDownload ?? true,
    fetch: opts.fetch,
    token: resolveToken(config.token, env)
  })
  const paths = petalsPaths(opts.dataDir, config)
  const identity = await ensureIdentity(paths.identityPath)
  if (identity.created) logger.info({ component: 'petals-bridge', peerId: identity.peerId }, `generated Petals identity ${paths.identityPath}`)

  // Refuse a configuration Petals would reject now, not at the first launch.
  buildServerCommand({
    config,
    metadata,
    span: { start: 0, end: 1 },
    initialPeers: [],
    identityPath: paths.identityPath,
    workDir: paths.workDir,
    env
  })

  // A server left behind by a daemon that died abruptly would hold the port and the identity.
  await reapStaleServer(paths.pidFile, config.stopGraceMs, logger)

  const logFile = new RotatingLogFile(paths.logPath, config.logFile)
  const runner = new PetalsProcessRunner({
    config,
    metadata,
    identityPath: paths.identityPath,
    peerId: identity.peerId,
    workDir: paths.workDir,
    env: opts.env,
    logger,
    logFile,
    pidFile: paths.pidFile,
    reachability: opts.reachability
  })
  return new SupervisedBackend({
    runner,
    restart: config.restart,
    petalsPeerId: identity.peerId,
    petalsMultiaddrs: petalsMultiaddrs({
      peerId: identity.peerId,
      port: config.port,
      publicIp: config.publicIp,
      announceMaddrs: config.announceMaddrs,
      hosts: opts.hosts
    }),
    logger,
    onClosed: () => { logFile.close() }
  })
}
