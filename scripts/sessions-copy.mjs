// `npm run sessions:copy -- --from <store> --to <store>`: jiti loads sessions-copy.ts and the store code
// it uses, as bench/run.mjs does for the bench.
import { createJiti } from 'jiti'

await createJiti(import.meta.url).import('./sessions-copy.ts')
