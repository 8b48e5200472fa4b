// README's configuration table must list exactly the schema's keys (regenerate it with
// `petalmesh config keys --markdown` after adding a key).
import { describe, it, expect } from 'vitest'
import { readFileSync } from 'node:fs'
import { describeConfigKeys } from '../../src/node/config.ts'

describe('README config table', () => {
  it('lists every config key, each with its env variable and description', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    const rows = [...readme.matchAll(/^\| `([^`]+)` \| `(PETALMESH_[A-Z_]+)` \| `.*` \| (.+) \|$/gm)].map(m => ({ key: m[1], env: m[2], description: m[3] }))
    const keys = describeConfigKeys()
    expect(rows.map(r => r.key).sort()).toEqual(keys.map(k => k.key).sort())
    for (const k of keys) {
      const row = rows.find(r => r.key === k.key)
      expect(row, k.key).toMatchObject({ env: k.env, description: k.description })
    }
  })
})
