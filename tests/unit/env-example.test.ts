import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { appRequest, devAllowedHosts } from '~/scripts/dev-server-address.mjs'
import { backends } from '~/server/session-stores/backends'
import { EnvReader, readStoreSettings } from '~/server/session-stores/session-store-config'
import { readMigrationSetting } from '~/server/session-stores/stateless-session-migration'

/** An EnvReader that notes every variable asked for, and answers as if none were set. */
class RecordingEnv extends EnvReader {
  readonly names = new Set<string>()

  constructor() {
    super({ SESSION_STORE_SECRET: 'x'.repeat(32) })
  }

  override optional(name: string): string | undefined {
    this.names.add(name)
    return super.optional(name)
  }
}

const documented = new Set([...readFileSync(new URL('../../.env.example', import.meta.url), 'utf8').matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map(match => match[1]))

describe('.env.example documents every variable the session store reads', () => {
  it('the settings every backend shares', () => {
    const env = new RecordingEnv()
    readStoreSettings(env)
    expect([...env.names].filter(name => !documented.has(name))).toEqual([])
  })

  it('whether sessions move from the SDK\'s stateless cookies into the store', () => {
    const env = new RecordingEnv()
    readMigrationSetting(env)
    expect([...env.names].filter(name => !documented.has(name))).toEqual([])
  })

  for (const backend of Object.values(backends)) {
    it(`the ${backend.name} backend's settings`, () => {
      const env = new RecordingEnv()
      backend.settings(env)
      expect(env.names.size).toBeGreaterThan(0)
      expect([...env.names].filter(name => !documented.has(name))).toEqual([])
    })
  }
})

describe('.env.example documents every variable npm run dev reads', () => {
  it('where the dev server runs and which hosts it answers', () => {
    const names = new Set<string>()
    const env = new Proxy({}, { get: (_env, name) => (typeof name === 'string' && names.add(name), undefined) })
    appRequest([], env)
    devAllowedHosts(env)
    // NUXT_PORT and NITRO_PORT are nuxt dev's own spellings of PORT.
    expect([...names].filter(name => !documented.has(name) && !['NUXT_PORT', 'NITRO_PORT'].includes(name))).toEqual([])
  })
})
