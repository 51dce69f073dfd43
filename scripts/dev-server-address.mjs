// @ts-check
// Where `npm run dev` serves the app and who may reach it. The address must be the one in the
// callback URL the IdP sends the browser back to, on the host the cookies belong to; Nuxt's own
// habit of moving to another port when one is busy would split them, so the port is chosen here.
import { createServer } from 'node:net'

const DEFAULT_APP_BASE_URL = 'http://localhost:3000'
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])
// How far `npm run dev` looks for a free port when it may move: 3000 busy → 3001 … 3019.
const PORTS_TO_TRY = 20

/**
 * A port wanted on a loopback host, and why it may not move, if it may not.
 * @typedef {object} PortRequest
 * @property {string} name what listens there, for messages: 'the app', 'the dev IdP'
 * @property {number} port
 * @property {string} host the host to listen on: localhost, 127.0.0.1 or ::1
 * @property {{ reason: string, remedy: string }} [fixedBy] set when the port may not move
 */

/**
 * What `npm run dev` is asked for: the app's port and host, and the base URL they must match.
 * @typedef {PortRequest & { baseUrl: URL, realTenant: boolean, hostFromArgs: boolean }} AppRequest
 */

/**
 * The value of `--port`/`-p` (or `--host`/`-h`) among `nuxt dev`'s arguments, in any spelling mri reads.
 * @param {string[]} argv
 * @param {string[]} names e.g. ['--port', '-p']
 * @returns {{ value: string | undefined, index: number, length: number } | undefined}
 */
function argument(argv, names) {
  for (const [index, arg] of argv.entries()) {
    const name = names.find(name => arg === name || arg.startsWith(`${name}=`))
    if (!name) continue
    if (arg.length > name.length) return { value: arg.slice(name.length + 1), index, length: 1 }
    const next = argv[index + 1]
    return next === undefined || next.startsWith('-') ? { value: undefined, index, length: 1 } : { value: next, index, length: 2 }
  }
  return undefined
}

/**
 * @param {string} text
 * @param {string} source where it came from, for the message: '--port', 'PORT', ...
 */
function portNumber(text, source) {
  const port = Number(text)
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${source} must be a port number (1-65535); it is "${text}".`)
  }
  return port
}

/** @param {string} hostname a URL's hostname: IPv6 addresses keep their brackets there */
const listenHost = hostname => hostname.replace(/^\[(.*)\]$/, '$1')

/**
 * Reads where the app should run from `nuxt dev`'s arguments and the environment, the way `nuxt dev`
 * reads them (`--port`, then NUXT_PORT, NITRO_PORT, PORT), falling back to NUXT_AUTH0_APP_BASE_URL's
 * port and 3000. The port may move to a free one only when nobody fixed it: not on the command line
 * or in the environment, and not registered at a real Auth0 tenant or behind a tunnel.
 * @param {string[]} argv `nuxt dev`'s arguments
 * @param {NodeJS.ProcessEnv} env
 * @returns {AppRequest}
 */
export function appRequest(argv, env) {
  const realTenant = Boolean(env.NUXT_AUTH0_DOMAIN)
  const baseUrlText = env.NUXT_AUTH0_APP_BASE_URL
    || (realTenant ? undefined : env.DEV_IDP_APP_BASE_URLS?.split(',')[0]?.trim())
    || DEFAULT_APP_BASE_URL
  const baseUrl = URL.parse(baseUrlText)
  if (!baseUrl || !['http:', 'https:'].includes(baseUrl.protocol)) {
    throw new Error(`NUXT_AUTH0_APP_BASE_URL must be a URL such as ${DEFAULT_APP_BASE_URL}; it is "${baseUrlText}".`)
  }
  const local = LOOPBACK_HOSTS.has(baseUrl.hostname)
  const baseUrlPort = Number(baseUrl.port || (baseUrl.protocol === 'https:' ? 443 : 80))

  const fromArgs = argument(argv, ['--port', '-p'])
  const envName = ['NUXT_PORT', 'NITRO_PORT', 'PORT'].find(name => env[name])
  const chosenBy = fromArgs?.value ? '--port' : envName
  const chosen = fromArgs?.value ?? (envName && env[envName])
  const port = chosen ? portNumber(chosen, chosenBy ?? 'PORT') : local ? baseUrlPort : 3000

  if (realTenant && local && port !== baseUrlPort) {
    throw new Error(`NUXT_AUTH0_APP_BASE_URL is ${baseUrl.origin} but ${chosenBy} asks for port ${port}: the IdP would send the browser back to the other port. `
      + 'Make them agree (and the callback URL registered in Auth0 with them).')
  }

  /** @type {PortRequest['fixedBy']} */
  let fixedBy
  if (chosenBy) {
    fixedBy = { reason: `you chose it with ${chosenBy}`, remedy: `choose another with ${chosenBy}` }
  }
  else if (!local) {
    fixedBy = { reason: `NUXT_AUTH0_APP_BASE_URL is ${baseUrl.origin}, whose tunnel or proxy forwards to this port`, remedy: 'choose another with PORT and point the tunnel at it' }
  }
  else if (realTenant) {
    fixedBy = {
      reason: `NUXT_AUTH0_DOMAIN names a real Auth0 tenant, where ${baseUrl.origin}/auth/callback is the registered callback URL`,
      remedy: 'set NUXT_AUTH0_APP_BASE_URL to another port and add its /auth/callback to the application\'s Allowed Callback URLs (and the URL to Allowed Logout URLs)',
    }
  }

  return {
    name: 'the app',
    port,
    host: local ? listenHost(baseUrl.hostname) : 'localhost',
    fixedBy,
    baseUrl,
    realTenant,
    hostFromArgs: argument(argv, ['--host', '-h']) !== undefined,
  }
}

/**
 * The dev IdP's port: DEV_IDP_PORT, which fixes it, or 4400 and the next free ones.
 * @param {number} port from devIdpOptionsFromEnv()
 * @param {NodeJS.ProcessEnv} env
 * @returns {PortRequest}
 */
export function idpRequest(port, env) {
  return {
    name: 'the dev IdP',
    port,
    host: 'localhost',
    fixedBy: env.DEV_IDP_PORT ? { reason: 'you chose it with DEV_IDP_PORT', remedy: 'choose another with DEV_IDP_PORT' } : undefined,
  }
}

/**
 * Why a port cannot be listened on, or undefined when it can. `localhost` is checked on both
 * loopback addresses, because browsers try both: a server on 127.0.0.1 alone would still answer
 * some of the app's requests.
 * @param {number} port
 * @param {string} host
 * @returns {Promise<string | undefined>}
 */
export async function portProblem(port, host) {
  for (const address of host === 'localhost' ? ['127.0.0.1', '::1'] : [host]) {
    const problem = await new Promise((resolve) => {
      const server = createServer()
      server.once('error', (/** @type {NodeJS.ErrnoException} */ error) => {
        // No IPv6 on this machine: nothing can listen on ::1 either.
        if (error.code === 'EADDRNOTAVAIL' || error.code === 'EAFNOSUPPORT') resolve(undefined)
        else resolve(error.code === 'EADDRINUSE' ? 'in use' : `not usable (${error.code ?? error.message})`)
      })
      server.listen({ port, host: address, exclusive: true }, () => server.close(() => resolve(undefined)))
    })
    if (problem) return `${problem} on ${address}`
  }
  return undefined
}

/**
 * The requested port when it is free; otherwise the next free one when the port may move, or an
 * error that names the busy port and what to do.
 * @param {PortRequest} request
 * @param {(port: number, host: string) => Promise<string | undefined>} [problemOf]
 * @returns {Promise<number>}
 */
export async function choosePort(request, problemOf = portProblem) {
  const { name, port, host, fixedBy } = request
  if (port === 0) return 0 // "any free port": the listener picks one
  const problem = await problemOf(port, host)
  if (!problem) return port
  if (fixedBy) {
    throw new Error(`Port ${port}, where ${name} should run, is ${problem}, and it may not move: ${fixedBy.reason}. `
      + `Stop what uses it (\`lsof -i :${port}\` names it), or ${fixedBy.remedy}.`)
  }
  for (let next = port + 1; next < port + PORTS_TO_TRY && next <= 65535; next++) {
    if (!await problemOf(next, host)) return next
  }
  throw new Error(`Ports ${port} to ${port + PORTS_TO_TRY - 1}, where ${name} should run, are all in use on ${host}. Stop what uses them, or choose a port with PORT (DEV_IDP_PORT for the dev IdP).`)
}

/**
 * The app's base URL on the port chosen for it (unchanged when the app runs behind a tunnel).
 * @param {AppRequest} request
 * @param {number} port
 */
export function appBaseUrlOn(request, port) {
  const url = new URL(request.baseUrl)
  if (LOOPBACK_HOSTS.has(url.hostname)) url.port = String(port)
  return `${url.origin}${url.pathname.replace(/\/$/, '')}`
}

/**
 * `nuxt dev`'s arguments with the chosen port, and the base URL's host unless the user gave one:
 * explicit, so that `nuxt dev` neither moves to another port nor listens where the cookies are not.
 * @param {string[]} argv
 * @param {AppRequest} request
 * @param {number} port
 */
export function nuxtDevArgs(argv, request, port) {
  const args = [...argv]
  const given = argument(args, ['--port', '-p'])
  if (given) args.splice(given.index, given.length)
  return [...args, '--port', String(port), ...(request.hostFromArgs ? [] : ['--host', request.host])]
}

/**
 * The hosts besides localhost that `nuxt dev` answers (Vite refuses any other Host header with 403,
 * against DNS rebinding): NUXT_AUTH0_APP_BASE_URL's host when it is a tunnel's, and DEV_ALLOWED_HOSTS
 * (comma-separated host names; a leading dot allows every subdomain, e.g. `.trycloudflare.com`).
 * @param {NodeJS.ProcessEnv} env
 * @returns {string[]}
 */
export function devAllowedHosts(env) {
  const hosts = (env.DEV_ALLOWED_HOSTS ?? '').split(',').map(host => host.trim()).filter(Boolean).map((host) => {
    if (host.includes('*') || host === 'true' || host === 'all') {
      throw new Error(`DEV_ALLOWED_HOSTS holds "${host}": list host names instead (a leading dot allows subdomains, e.g. .trycloudflare.com). `
        + 'Allowing every host would let any web page reach the dev server through DNS rebinding.')
    }
    if (!/^\.?[a-z0-9-]+(\.[a-z0-9-]+)*$/i.test(host)) {
      throw new Error(`DEV_ALLOWED_HOSTS holds "${host}", which is not a host name: write abc.trycloudflare.com, not a URL or host:port.`)
    }
    return host.toLowerCase()
  })
  const baseUrl = URL.parse(env.NUXT_AUTH0_APP_BASE_URL ?? '')
  if (baseUrl && !LOOPBACK_HOSTS.has(baseUrl.hostname)) hosts.unshift(baseUrl.hostname)
  return [...new Set(hosts)]
}
