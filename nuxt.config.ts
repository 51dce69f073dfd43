import { devAllowedHosts } from './scripts/dev-server-address.mjs'

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
    'nuxt-security',
  ],

  // Response headers; why each value, and what it allows, in docs/security.md.
  security: {
    nonce: true,
    headers: {
      contentSecurityPolicy: {
        'default-src': ["'self'"],
        'script-src': ["'nonce-{{nonce}}'", "'strict-dynamic'"],
        'script-src-attr': ["'none'"],
        'style-src': ["'self'", "'unsafe-inline'"],
        // Avatars: Auth0 gives https URLs (Gravatar and others), the dev IdP a data: URL.
        'img-src': ["'self'", 'data:', 'https:'],
        'font-src': ["'self'"],
        'connect-src': ["'self'"],
        'object-src': ["'none'"],
        'base-uri': ["'none'"],
        // No page posts a form to the IdP: sign-in and sign-out are links, which form-action does not govern.
        'form-action': ["'self'"],
        'frame-ancestors': ["'none'"],
        // Every resource is same-origin; over plain HTTP (dev, tests, `npm run preview`) upgrading would break them.
        'upgrade-insecure-requests': false,
      },
      xFrameOptions: 'DENY',
      // Keeps the Origin header of the app's own POSTs (no-referrer would make it "null"); other sites see the origin only.
      referrerPolicy: 'strict-origin-when-cross-origin',
      // Sent by production builds only (see $production below): dev and tests are plain HTTP.
      strictTransportSecurity: false,
    },
    // Store-backed rate and body limits live in server/ (shared by every app server); these are per process.
    rateLimiter: false,
    requestSizeLimiter: false,
    // It rewrites query strings and bodies, logout tokens included; Vue escapes what pages render.
    xssValidator: false,
    // Cross-site POSTs are refused by server/middleware/cross-site-requests.ts, without a token.
    csrf: false,
    // The app answers no cross-origin caller; its default would allow the build machine's dev URL.
    corsHandler: false,
    // Leave console calls in the bundles: what a page logs is the app's choice.
    removeLoggers: false,
  },

  $production: {
    security: { headers: { strictTransportSecurity: { maxAge: 31_536_000, includeSubdomains: true } } },
  },
  $development: {
    // `nuxt dev` answers 403 to any Host but localhost's: add a tunnel's (scripts/dev-server-address.mjs).
    vite: { server: { allowedHosts: devAllowedHosts(process.env) } },
    // Nuxt's dev error page (a bug's stack) is an inline script added after nuxt-security's nonces: the CSP would block it.
    routeRules: { '/__nuxt_error': { security: { headers: { contentSecurityPolicy: false } } } },
  },

  routeRules: {
    // Pages and API answers show who is signed in: no cache may keep them.
    '/**': { headers: { 'cache-control': 'no-store' } },
    '/_nuxt/**': { headers: { 'cache-control': 'public, max-age=31536000, immutable' } },
    // A JSON answer loads nothing and belongs in no frame.
    '/api/**': { headers: { 'content-security-policy': "default-src 'none'; frame-ancestors 'none'" } },
  },

  css: ['~/assets/css/main.css'],
  app: {
    head: {
      // Pages set their own title ("Profile"); the home page and error pages have none and get the site's name alone.
      titleTemplate: '%s %separator %siteName',
      templateParams: { separator: '·', siteName: 'Nuxt + Auth0 sessions' },
      meta: [
        { name: 'viewport', content: 'width=device-width, initial-scale=1' },
        { name: 'description', content: 'A Nuxt 4 starter that signs users in with Auth0 and keeps their sessions on the server.' },
        // Light or dark, as the system says (assets/css/main.css); form controls and scrollbars follow.
        { name: 'color-scheme', content: 'light dark' },
      ],
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
    // asyncContext: the session store reads the User-Agent of the request it writes a new session for (useEvent()).
    experimental: { tasks: true, asyncContext: true },
    // PostgreSQL and the embedded store have no native expiry: delete expired rows every 10 minutes.
    scheduledTasks: { '*/10 * * * *': ['session-store:prune'] },
  },
})
