import { testBrokenStore } from './store-down'

await testBrokenStore('mongodb')
