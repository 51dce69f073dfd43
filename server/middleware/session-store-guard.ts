import { servingRefusal } from '../utils/serving-refusal'

/**
 * Refuses to serve, with the reason (on the page in development, in the log in production:
 * server/plugins/outage-error-details.ts), rather than run half-configured. Every page answers 503
 * while Auth0 or the store is misconfigured. (A middleware, not a request hook: it runs after the SDK's.)
 */
export default defineEventHandler((event) => {
  // Nuxt renders error.vue through this internal route: let it show the reason.
  if (event.path.startsWith('/__nuxt_error')) return
  // It answers the same refusal in its own shape, { status, store }, for load balancers.
  if (event.path.split('?')[0] === '/api/health') return
  const refusal = servingRefusal(event)
  if (refusal) throw refusal
})
