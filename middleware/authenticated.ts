/** For pages that need a user: signed out, go to login and come back here afterwards. */
export default defineNuxtRouteMiddleware((to) => {
  // While Nuxt renders an error for this URL (e.g. a 503), show it rather than send the user away.
  if (useUser().value || useError().value) return
  return navigateTo(`/auth/login?returnTo=${encodeURIComponent(to.fullPath)}`, { external: true })
})
