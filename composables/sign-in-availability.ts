import type { SignInAvailability } from '~/server/utils/sign-in-availability'

/**
 * Whether a signed-out visitor can sign in now (the session store answers): app.vue asks the server
 * while rendering, the Log in buttons and the banner read it.
 */
export const useSignInAvailability = () => useState<SignInAvailability>('sign-in-availability', () => ({ available: true }))
