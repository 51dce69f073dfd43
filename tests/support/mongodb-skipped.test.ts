import { it } from 'vitest'

const reason = 'MONGODB_URI is not set, so the MongoDB store was NOT tested. Start one (docker compose up -d mongodb) and run: MONGODB_URI=mongodb://root:mongodb@localhost:27017/?authSource=admin npm test'
console.warn(`\n  ⚠  SKIPPED: ${reason}\n`)

it.skip(`MongoDB session store contract: ${reason}`, () => {})
