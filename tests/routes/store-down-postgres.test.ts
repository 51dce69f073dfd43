import { testBrokenStore } from './store-down'

await testBrokenStore('postgres')
