import { testBrokenStore } from './store-down'

await testBrokenStore('embedded')
