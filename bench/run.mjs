// `npm run bench [-- section ...]`. Node 20 runs no TypeScript: jiti loads bench.ts and the store code
// it measures. (jiti's own loader, not `--import jiti/register`: with the register hook, connect-mongo's
// ESM import of the mongodb driver fails on Node 20.)
import { createJiti } from 'jiti'

await createJiti(import.meta.url).import('./bench.ts')
