import { MongoClient } from 'mongodb'
import { testSessionStore } from './session-store-contract'

const MONGODB_URI = process.env.MONGODB_URI
const PREFIX = 'sessions_test_'

/** The namespaces of the collections named PREFIX<namespace>[_rate_limits], in the database the contract uses (the default). */
async function namespacesHeld(): Promise<string[]> {
  const client = new MongoClient(MONGODB_URI!)
  try {
    const collections = await client.db('auth0_sessions').listCollections({ name: { $regex: `^${PREFIX}` } }, { nameOnly: true }).toArray()
    return collections.map(collection => collection.name.slice(PREFIX.length).split('_')[0]!)
  }
  finally {
    await client.close()
  }
}

testSessionStore({
  name: 'mongodb',
  env: namespace => ({ MONGODB_URI: MONGODB_URI ?? '', MONGODB_COLLECTION: `${PREFIX}${namespace}` }),
  namespacesHeld,
  unreachable: { env: { MONGODB_URI: 'mongodb://root:hunter2@localhost:1/?authSource=admin' }, address: 'localhost:1' },
  skip: MONGODB_URI ? undefined : 'MONGODB_URI is not set: start one (docker compose up -d mongodb) and run MONGODB_URI=mongodb://root:mongodb@localhost:27017/?authSource=admin npm test',
})
