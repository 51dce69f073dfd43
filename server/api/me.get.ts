/** The signed-in user's claims as JSON; 401 when signed out. */
export default defineEventHandler(async (event) => {
  const user = await useAuth0(event).getUser()
  if (!user) throw createError({ statusCode: 401, statusMessage: 'Not signed in' })
  return user
})
