// Paths of the small Python scripts the bridge runs (shipped next to the TypeScript sources).

import { fileURLToPath } from 'node:url'

export const PROBE_SCRIPT = fileURLToPath(new URL('./python/probe.py', import.meta.url))
export const GENERATE_SCRIPT = fileURLToPath(new URL('./python/generate.py', import.meta.url))
