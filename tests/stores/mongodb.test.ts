import { testSessionStore } from './session-store-contract'

const MONGODB_URI = process.env.MONGODB_URI

testSessionStore({
  name: 'mongodb',
  env: namespace => ({ MONGODB_URI: MONGODB_URI ?? '', MONGODB_COLLECTION: `sessions_test_${namespace}` }),
  unreachable: { env: { MONGODB_URI: 'mongodb://root:hunter2@localhost:1/?authSource=admin' }, address: 'localhost:1' },
  skip: MONGODB_URI ? undefined : 'MONGODB_URI is not set: start one (docker compose up -d mongodb) and run MONGODB_URI=mongodb://root:mongodb@localhost:27017/?authSource=admin npm test',
})
