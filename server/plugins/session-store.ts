import getSessionStoreInstance from '../utils/session-store-factory'
import { UnavailableSessionStore } from '../session-stores/unavailable-session-store'

/**
 * Opens the store at start and closes it on shutdown. A first ping says at once, in the log, what
 * would otherwise wait for the first request: a server that is down, a Redis that evicts keys,
 * a folder another process holds.
 */
export default defineNitroPlugin((nitroApp) => {
  const store = getSessionStoreInstance()
  if (!store) return
  nitroApp.hooks.hook('close', () => store.close())
  if (store instanceof UnavailableSessionStore) return
  store.ping().then(
    () => console.info(`[session-store] ${store.name} at ${store.location} answers.`),
    (error: Error) => console.error(`[session-store] NOT READY: ${error.message}`))
})
