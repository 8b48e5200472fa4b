import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Integration tests start many libp2p nodes; on 2 cores running files two at a time is the sweet spot.
    maxWorkers: 2,
    reporters: ['default']
  }
})
