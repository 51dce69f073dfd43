// Nuxt looks for app.vue, pages/ and server/ at the project root (no app/ folder).
export default defineNuxtConfig({
  compatibilityDate: '2026-11-01',
  srcDir: '.',
  devtools: { enabled: false },
  telemetry: false,

  modules: [
    ['@auth0/auth0-nuxt', {
      sessionStoreFactoryPath: '~/server/utils/session-store-factory.ts',
    }],
  ],

  css: ['~/assets/css/main.css'],

  runtimeConfig: {
    // Filled at run time from NUXT_AUTH0_DOMAIN, NUXT_AUTH0_CLIENT_ID, ... (see .env.example).
    auth0: {
      domain: '',
      clientId: '',
      clientSecret: '',
      sessionSecret: '',
      appBaseUrl: 'http://localhost:3000',
      audience: '',
    },
  },
})
