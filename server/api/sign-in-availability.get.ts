import { signInAvailability } from '../utils/sign-in-availability'

/** Whether signing in can work now (the session store answers), for the home page's banner; public, cached for a few seconds. */
export default defineEventHandler(() => signInAvailability())
