import getSessionStoreInstance from '../../utils/session-store-factory'

/** Scheduled in nuxt.config.ts: deletes expired sessions where the backend has no native expiry. */
export default defineTask({
  meta: { name: 'session-store:prune', description: 'Delete expired sessions (PostgreSQL and embedded stores)' },
  async run() {
    const store = getSessionStoreInstance()
    const pruned = store ? await store.prune() : 0
    if (pruned > 0) console.info(`[session-store] pruned ${pruned} expired session(s).`)
    return { result: { pruned } }
  },
})
