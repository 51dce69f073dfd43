// The route tests run the production build: build it first, unless .output/ holds one of these sources.
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureAppBuild } from '../support/app-build'

export default async function setup() {
  await ensureAppBuild(join(fileURLToPath(new URL('../../test-results/', import.meta.url)), 'nuxt-build.log'))
}
