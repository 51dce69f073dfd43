import { devicesToSignOut, signOut } from '../../utils/devices'

/** Signs out every device of the caller's but this one. */
export default defineEventHandler(async (event) => {
  const { sub, sessions } = await devicesToSignOut(event)
  const others = sessions.filter(session => !session.current)
  return { signedOut: await signOut(event, sub, others, 'other-devices-signed-out') }
})
