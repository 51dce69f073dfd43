// Nuxt looks for app.vue, pages/ and server/ at the project root (no app/ folder).
export default defineNuxtConfig({
  compatibilityDate: '2026-11-01',
  srcDir: '.',
  devtools: { enabled: false },
  telemetry: false,

  modules: [
    ['@auth0/auth0-nuxt', {
      // Read by the SDK once at start; SESSION_STORE picks the backend (see .env.example).
      sessionStoreFactoryPath: '~/server/utils/session-store-factory.ts',
    }],
  ],

  css: ['~/assets/css/main.css'],
  app: {
    head: {
      title: 'Nuxt + Auth0, sessions on the server',
      meta: [{ name: 'viewport', content: 'width=device-width, initial-scale=1' }],
      link: [{ rel: 'icon', type: 'image/svg+xml', href: '/favicon.svg' }],
    },
  },

  runtimeConfig: {
    // The bearer token of the dev IdP's admin routes (NUXT_DEV_IDP_ADMIN_SECRET, set with NUXT_PUBLIC_DEV_IDP_URL); server-only.
    devIdpAdminSecret: '',
    public: {
      // The local dev IdP's issuer, set by `npm run dev` and the e2e tests (NUXT_PUBLIC_DEV_IDP_URL);
      // empty with a real Auth0 tenant. It turns on the back-channel logout demo's buttons.
      devIdpUrl: '',
    },
    // Set at run time by NUXT_AUTH0_DOMAIN, NUXT_AUTH0_CLIENT_ID, ... (see .env.example).
    auth0: {
      domain: '',
      clientId: '',
      clientSecret: '',
      sessionSecret: '',
      appBaseUrl: 'http://localhost:3000',
      audience: '',
      // The SDK's defaults. Change them only through NUXT_AUTH0_SESSION_CONFIGURATION_*: the session
      // store reads the same variables, so cookie and store expire together; an edit here would not reach it.
      sessionConfiguration: {
        absoluteDuration: 259_200,
        inactivityDuration: 86_400,
        rolling: true,
      },
    },
  },

  nitro: {
    experimental: { tasks: true },
    // PostgreSQL and the embedded store have no native expiry: delete expired rows every 10 minutes.
    scheduledTasks: { '*/10 * * * *': ['session-store:prune'] },
  },
})
