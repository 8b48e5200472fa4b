// Picking the backend the configuration asks for (petals.backend): the real Petals server or the simulation.

import { parsePetalsConfig } from './config.ts'
import { createPetalsBackend } from './petals-backend.ts'
import type { PetalsBackendOptions } from './petals-backend.ts'
import { createSimulatedBackend } from './simulated.ts'
import type { SimulatedBackendOptions } from './simulated.ts'
import type { PetalsBackend } from './types.ts'

export interface CreateBackendOptions extends PetalsBackendOptions {
  /** Settings of the simulated backend, used when petals.backend is "simulated". */
  simulated?: SimulatedBackendOptions
}

/** `createPetalsBackend` or `createSimulatedBackend`, according to `config.backend`. */
export async function createBackend (opts: CreateBackendOptions): Promise<PetalsBackend> {
  const config = parsePetalsConfig(opts.config)
  if (config.backend === 'simulated') {
    return createSimulatedBackend({
      model: config.model === '' ? undefined : config.model,
      dhtPrefix: config.dhtPrefix ?? undefined,
      restart: config.restart,
      logger: opts.logger,
      ...opts.simulated
    })
  }
  return await createPetalsBackend({ ...opts, config })
}
