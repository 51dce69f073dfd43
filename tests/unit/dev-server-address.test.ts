import { execFile } from 'node:child_process'
import { createServer, type Server } from 'node:net'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { appBaseUrlOn, appRequest, choosePort, devAllowedHosts, idpRequest, nuxtDevArgs, portProblem } from '~/scripts/dev-server-address.mjs'

/** A port checker that finds these ports busy and every other one free. */
const busy = (...ports: number[]) => async (port: number) => (ports.includes(port) ? 'in use on 127.0.0.1' : undefined)

const TENANT = { NUXT_AUTH0_DOMAIN: 'your-tenant.eu.auth0.com' }

describe('npm run dev chooses where the app runs', () => {
  it('3000 on localhost by default, and the next free port when 3000 is busy', async () => {
    const app = appRequest([], {})
    expect(app).toMatchObject({ port: 3000, host: 'localhost', fixedBy: undefined })
    expect(await choosePort(app, busy())).toBe(3000)
    expect(await choosePort(app, busy(3000, 3001))).toBe(3002)
  })

  it('the callback URL and nuxt dev follow the port it moved to', async () => {
    const app = appRequest(['--clear'], {})
    const port = await choosePort(app, busy(3000))
    expect(appBaseUrlOn(app, port)).toBe('http://localhost:3001')
    expect(nuxtDevArgs(['--clear'], app, port)).toEqual(['--clear', '--port', '3001', '--host', 'localhost'])
  })

  it('the port and host of NUXT_AUTH0_APP_BASE_URL, which may move with the dev IdP', async () => {
    const app = appRequest([], { NUXT_AUTH0_APP_BASE_URL: 'http://127.0.0.1:3005' })
    expect(app).toMatchObject({ port: 3005, host: '127.0.0.1', fixedBy: undefined })
    expect(appBaseUrlOn(app, await choosePort(app, busy(3005)))).toBe('http://127.0.0.1:3006')
  })

  for (const [how, argv, env] of [
    ['--port 3000', ['--port', '3000'], {}],
    ['--port=3000', ['--port=3000'], {}],
    ['-p 3000', ['-p', '3000'], {}],
    ['PORT=3000', [], { PORT: '3000' }],
    ['NUXT_PORT=3000', [], { NUXT_PORT: '3000' }],
  ] as const) {
    it(`stops, naming the busy port, when the user chose it with ${how}`, async () => {
      const app = appRequest([...argv], env)
      await expect(choosePort(app, busy(3000))).rejects.toThrow(/^Port 3000, where the app should run, is in use on 127\.0\.0\.1, and it may not move: you chose it with (--port|PORT|NUXT_PORT)\. Stop what uses it/)
    })
  }

  it('passes the chosen port to nuxt dev once, whatever spelling the user gave', () => {
    for (const argv of [['--port', '3007', '--clear'], ['--port=3007', '--clear'], ['-p', '3007', '--clear']]) {
      expect(nuxtDevArgs(argv, appRequest(argv, {}), 3007)).toEqual(['--clear', '--port', '3007', '--host', 'localhost'])
    }
  })

  it('keeps a host the user gave on the command line', () => {
    const app = appRequest(['--host', '0.0.0.0'], {})
    expect(nuxtDevArgs(['--host', '0.0.0.0'], app, 3000)).toEqual(['--host', '0.0.0.0', '--port', '3000'])
  })

  it('stops with a real Auth0 tenant, whose registered callback URL names the port', async () => {
    const app = appRequest([], TENANT)
    expect(app.realTenant).toBe(true)
    await expect(choosePort(app, busy(3000))).rejects.toThrow(/real Auth0 tenant, where http:\/\/localhost:3000\/auth\/callback is the registered callback URL.*Allowed Callback URLs/)
  })

  it('refuses a real tenant whose base URL and PORT disagree', () => {
    expect(() => appRequest([], { ...TENANT, NUXT_AUTH0_APP_BASE_URL: 'http://localhost:3000', PORT: '3005' }))
      .toThrow('NUXT_AUTH0_APP_BASE_URL is http://localhost:3000 but PORT asks for port 3005')
  })

  it('behind a tunnel, serves on localhost at PORT (3000), which the tunnel points at and may not move', async () => {
    const app = appRequest([], { ...TENANT, NUXT_AUTH0_APP_BASE_URL: 'https://abc.trycloudflare.com' })
    expect(app).toMatchObject({ port: 3000, host: 'localhost' })
    expect(appBaseUrlOn(app, 3000)).toBe('https://abc.trycloudflare.com')
    await expect(choosePort(app, busy(3000))).rejects.toThrow('whose tunnel or proxy forwards to this port')
  })

  it('says what is wrong with a port that is no port', () => {
    expect(() => appRequest(['--port', 'abc'], {})).toThrow('--port must be a port number (1-65535); it is "abc".')
    expect(() => appRequest([], { NUXT_AUTH0_APP_BASE_URL: 'localhost:3000' })).toThrow('NUXT_AUTH0_APP_BASE_URL must be a URL')
  })
})

describe('npm run dev chooses where the dev IdP runs', () => {
  it('4400 and the next free ports, unless DEV_IDP_PORT fixes it', async () => {
    expect(await choosePort(idpRequest(4400, {}), busy(4400))).toBe(4401)
    await expect(choosePort(idpRequest(4410, { DEV_IDP_PORT: '4410' }), busy(4410))).rejects.toThrow('where the dev IdP should run, is in use on 127.0.0.1, and it may not move: you chose it with DEV_IDP_PORT')
  })
})

describe('a port is busy when anything listens on it where the browser may connect', () => {
  let server: Server | undefined
  afterEach(() => new Promise<void>(done => (server ? server.close(() => done()) : done())))

  const listenOn = (host: string) => new Promise<number>((resolve) => {
    server = createServer().listen({ port: 0, host }, () => resolve((server!.address() as { port: number }).port))
  })

  it('a server on 127.0.0.1 alone makes the port busy for localhost', async () => {
    const port = await listenOn('127.0.0.1')
    expect(await portProblem(port, 'localhost')).toBe('in use on 127.0.0.1')
    expect(await portProblem(port, '127.0.0.1')).toBe('in use on 127.0.0.1')
  })

  it('a server on every address makes it busy too', async () => {
    const port = await listenOn('::')
    expect(await portProblem(port, 'localhost')).toMatch(/^in use on /)
  })

  it('npm run dev stops before starting anything when the port the user chose is busy', async () => {
    const port = await listenOn('127.0.0.1')
    const run = promisify(execFile)(process.execPath, ['scripts/dev.mjs'], { cwd: new URL('../../', import.meta.url), env: { ...process.env, PORT: String(port) }, timeout: 15_000 })
    await expect(run).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining(`[dev] Port ${port}, where the app should run, is in use on 127.0.0.1, and it may not move: you chose it with PORT.`) })
  })

  it('a port nothing listens on is free', async () => {
    const port = await listenOn('127.0.0.1')
    await new Promise<void>(done => server!.close(() => done()))
    server = undefined
    expect(await portProblem(port, 'localhost')).toBeUndefined()
  })
})

describe('nuxt dev answers the hosts of a tunnel, and only those', () => {
  it('none but localhost by default', () => {
    expect(devAllowedHosts({})).toEqual([])
    expect(devAllowedHosts({ NUXT_AUTH0_APP_BASE_URL: 'http://localhost:3000' })).toEqual([])
  })

  it('the host of a base URL that is not local, and those of DEV_ALLOWED_HOSTS', () => {
    expect(devAllowedHosts({ NUXT_AUTH0_APP_BASE_URL: 'https://abc.trycloudflare.com', DEV_ALLOWED_HOSTS: ' .ngrok-free.app, Dev.Example.com ' }))
      .toEqual(['abc.trycloudflare.com', '.ngrok-free.app', 'dev.example.com'])
  })

  it('refuses to allow every host, and says what to write instead', () => {
    expect(() => devAllowedHosts({ DEV_ALLOWED_HOSTS: '*' })).toThrow('Allowing every host would let any web page reach the dev server')
    expect(() => devAllowedHosts({ DEV_ALLOWED_HOSTS: 'https://abc.trycloudflare.com' })).toThrow('which is not a host name')
  })
})
