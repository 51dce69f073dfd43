import { devicesOf, signOut } from '../../utils/devices'

/** Signs out every device of the caller's but this one. */
export default defineEventHandler(async (event) => {
  const { sub, sessions } = await devicesOf(event)
  // "This device" is the session holding the caller's id token; a refresh racing this request can leave none marked.
  if (!sessions.some(session => session.current)) throw createError({ statusCode: 409, statusMessage: 'This device could not be told apart from the others just now. Try again.' })
  const others = sessions.filter(session => !session.current)
  return { signedOut: await signOut(event, sub, others, 'other-devices-signed-out') }
})
