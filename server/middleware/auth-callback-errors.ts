import { TRANSACTION_COOKIE } from '../utils/session-cookie-reader'

/**
 * The SDK turns a failed login into a 500. Catch the two failures a user can cause, before the
 * SDK's callback handler runs, and show a page that says what happened and offers to try again.
 */
const REASONS: Record<string, string> = {
  access_denied: 'The login was cancelled, or the identity provider refused it.',
  login_required: 'The identity provider asked you to sign in again.',
  consent_required: 'The identity provider needs your consent before signing you in.',
}

// Read once: useRuntimeConfig(event) would copy the config for every request this middleware sees.
const callbackPath: string = useRuntimeConfig().public.auth0?.routes?.callback ?? '/auth/callback'

export default defineEventHandler((event) => {
  if (!event.path.startsWith(callbackPath) || event.path.split('?')[0] !== callbackPath) return

  const query = getQuery(event)
  if (typeof query.error === 'string') {
    throw createError({
      statusCode: 401,
      statusMessage: 'Login failed',
      message: REASONS[query.error] ?? `The identity provider answered "${query.error.slice(0, 40)}".`,
    })
  }
  if (!getCookie(event, TRANSACTION_COOKIE)) {
    throw createError({
      statusCode: 400,
      statusMessage: 'Login failed',
      message: 'This login expired or was started in another browser or tab.',
    })
  }
})
