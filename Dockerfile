# syntax=docker/dockerfile:1
# The production image: the built server (.output/) on Node.js 24, run as the unprivileged `node` user.
#   docker build -t nuxt-auth0-session-stores .
#   docker run --env-file .env -e SESSION_STORE=redis -e REDIS_URL=redis://<host>:6379 -p 3000:3000 nuxt-auth0-session-stores
# Or `docker compose --profile app up --build`, which runs it beside Redis (docker-compose.yml).
# It needs a real Auth0 tenant (docs/auth0-tenant.md): the local dev IdP never runs in production.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts are skipped: the project's own `postinstall` (nuxt prepare) needs the sources, which
# come next, and `nuxt build` prepares them anyway; esbuild, the only dependency with one, runs without it.
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
# .output is self-contained: its server/node_modules holds every package the server loads.
COPY --from=build /app/.output ./.output
# The app's files stay root's (read-only for `node`); only .data, where SESSION_STORE=embedded keeps its
# files (EMBEDDED_STORE_DIR, default .data/sessions), is writable. Mount a volume there to keep them.
RUN mkdir .data && chown node:node .data
USER node
EXPOSE 3000
# /api/health answers 503 when the session store does not answer or Auth0 is not configured.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.PORT + '/api/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", ".output/server/index.mjs"]
