import getSessionStoreInstance from '../utils/session-store-factory'

/** 200 with the store's name and round-trip time when it answers; 503 with the reason when it does not. */
export default defineEventHandler(async (event) => {
  const store = getSessionStoreInstance()
  if (!store) return { status: 'ok', store: 'cookie' }

  const started = performance.now()
  try {
    await store.ping()
    return { status: 'ok', store: store.name, roundTripMs: Number((performance.now() - started).toFixed(2)) }
  }
  catch (error) {
    setResponseStatus(event, 503)
    return { status: 'unavailable', store: store.name, reason: error instanceof Error ? error.message : String(error) }
  }
})
