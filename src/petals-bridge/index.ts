// The Petals bridge: knows Petals (its CLI, logs, identity files, process model) and nothing about gossip.
// It takes a span and reports lifecycle events.

export type { BackendState, BackendStatus, BackendError, BackendLogLine, LogSource, PetalsBackend, SetSpanOptions, InitialPeersRequest, InitialPeersResolver } from './types.ts'

export { toNodeState } from './node-state.ts'

export { petalsConfigSchema, parsePetalsConfig, tokenSourceSchema, restartPolicySchema } from './config.ts'
export type { PetalsConfig, PetalsConfigInput, RestartPolicyConfig, TokenSource } from './config.ts'

export { createPetalsBackend, petalsPaths } from './petals-backend.ts'
export type { PetalsBackendOptions } from './petals-backend.ts'
export { createSimulatedBackend, fakePeerId } from './simulated.ts'
export { createBackend } from './backend.ts'
export type { CreateBackendOptions } from './backend.ts'
export type { SimulatedBackendOptions } from './simulated.ts'

export { loadModelMetadata, parseModelConfig, localModelDir, SUPPORTED_MODEL_TYPES } from './model-metadata.ts'
export type { ModelMetadata, ModelFamily, LoadModelMetadataOptions, FetchLike } from './model-metadata.ts'
export { defaultDhtPrefix, resolveDhtPrefix, dhtPrefixProblem } from './dht-prefix.ts'
export { blockMemory, blocksThatFit, nodeCapacity, resolveTorchDtype, resolveQuantType } from './memory.ts'
export type { BlockMemory, Capacity, TorchDtype, QuantType } from './memory.ts'

export { buildServerCommand, shellQuote, RUN_SERVER_MODULE } from './command.ts'
export type { BuildCommandInput, PetalsCommand } from './command.ts'
export { petalsReachabilityArgs } from './reachability-args.ts'
export type { PetalsReachabilityHint, PetalsReachability, PetalsReachabilityArgs } from './reachability-args.ts'
export { ensureIdentity, readIdentity, peerIdFromIdentityBytes, petalsMultiaddrs } from './identity.ts'
export type { PetalsIdentity } from './identity.ts'

export { PetalsLogParser, parsePetalsLog } from './log-events.ts'
export type { PetalsEvent, PetalsEventName } from './log-events.ts'
export { parseLogRecord } from './log-format.ts'
export { classifyFailureText, makeFailure, FAILURE_INFO } from './failures.ts'
export type { Failure, FailureKind } from './failures.ts'

export { runPreflight, formatPreflight } from './preflight.ts'
export type { PreflightReport, PreflightCheck, GpuInfo, PreflightOptions } from './preflight.ts'
export { generate } from './client.ts'
export type { GenerateOptions } from './client.ts'
export { loadPetalsConfigFile, ConfigFileError } from './config-file.ts'

export {
  PetalsBridgeError,
  ModelConfigError,
  UnsupportedModelError,
  InvalidPetalsCommandError,
  IdentityError,
  TokenError,
  BackendClosedError,
  GenerateError
} from './errors.ts'
export type { BridgeLogger } from './logger.ts'
