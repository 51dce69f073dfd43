// `npm run bench [-- section ...]`. jiti loads bench.ts and the store code it measures, with the same
// module resolution as the Vitest suites (jiti's own loader, not `--import jiti/register`: with the
// register hook, connect-mongo's ESM import of the mongodb driver failed).
import { createJiti } from 'jiti'

await createJiti(import.meta.url).import('./bench.ts')
