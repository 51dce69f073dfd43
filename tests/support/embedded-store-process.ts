// Another process opening the embedded store on a folder (argv[2]): it tells its parent (IPC) what a ping
// answered, then closes the store, or with `hold` keeps it open until it is killed.
import { createSessionStore } from '../../server/utils/session-store-factory'

export interface PingOutcome {
  pid: number
  error?: string
}

const [directory, mode] = process.argv.slice(2)
const store = createSessionStore({
  SESSION_STORE: 'embedded',
  EMBEDDED_STORE_DIR: directory,
  SESSION_STORE_SECRET: process.env.SESSION_STORE_SECRET,
})
const outcome: PingOutcome = await store!.ping().then(
  () => ({ pid: process.pid }),
  (error: Error) => ({ pid: process.pid, error: error.message }))
process.send!(outcome)
if (mode === 'hold') setInterval(() => {}, 60_000)
else await store!.close().finally(() => process.disconnect())
