import getSessionStoreInstance from '../utils/session-store-factory'

/** Opens the store at start (so its log line comes first) and closes it on shutdown. */
export default defineNitroPlugin((nitroApp) => {
  const store = getSessionStoreInstance()
  if (store) nitroApp.hooks.hook('close', () => store.close())
})
