import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Integration tests start dozens of real libp2p nodes and assert failure-detection times: on a
    // 2-core machine two such files at once starve each other's event loops, so files run one at a time.
    fileParallelism: false,
    reporters: ['default']
  }
})
