import { devicesToSignOut, signOut } from '../../utils/devices'

/** Signs one of the caller's other devices out. A handle that is not one of the caller's sessions is a 404, and ends nothing. */
export default defineEventHandler(async (event) => {
  const handle = getRouterParam(event, 'handle') ?? ''
  const { sub, sessions, devices } = await devicesToSignOut(event)
  const index = devices.findIndex(device => device.handle === handle)
  if (index < 0) throw createError({ statusCode: 404, statusMessage: 'No session of yours has this handle.' })
  if (devices[index]!.current) throw createError({ statusCode: 409, statusMessage: 'This is the device you are using: log out instead.' })
  await signOut(event, sub, [sessions[index]!], 'device-signed-out')
  setResponseStatus(event, 204)
  return null
})
