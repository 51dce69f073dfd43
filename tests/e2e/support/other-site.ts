// Pages on another site, as an attacker would host them: a throwaway HTTP server per page, on a
// free port. `127.0.0.1` is another site than the app's `localhost`; `localhost` on another port
// is the same site (cookies with SameSite=Lax still go along), but another origin.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test as base } from './fixtures'

export type OtherSiteHost = '127.0.0.1' | 'localhost'

export interface OtherSite {
  /** Serves `html` at the root of a new server on `host`; resolves with its URL. */
  serve(html: string, host: OtherSiteHost): Promise<string>
}

function listen(server: Server): Promise<number> {
  // No host: the server takes both IPv4 and IPv6, whichever `localhost` resolves to.
  return new Promise(resolve => server.listen(0, () => resolve((server.address() as AddressInfo).port)))
}

export const test = base.extend<{ otherSite: OtherSite }>({
  otherSite: async ({}, use) => {
    const servers: Server[] = []
    await use({
      async serve(html, host) {
        const server = createServer((_request, response) => {
          response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          response.end(`<!DOCTYPE html><html><head><title>Another site</title></head><body>${html}</body></html>`)
        })
        servers.push(server)
        return `http://${host}:${await listen(server)}/`
      },
    })
    for (const server of servers) {
      server.close()
      server.closeAllConnections() // the browser may still hold a keep-alive connection
    }
  },
})

export { expect } from './fixtures'
