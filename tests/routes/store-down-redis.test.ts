import { testBrokenStore } from './store-down'

await testBrokenStore('redis')
