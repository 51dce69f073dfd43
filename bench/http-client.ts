import { Agent as HttpAgent, request as httpRequest } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'

export interface Reply {
  status: number
  location: string | undefined
  setCookies: string[]
  body: string
}

/** A browser's cookie jar for one origin: enough for sign-in (no paths, no expiry dates). */
export class CookieJar {
  readonly #cookies = new Map<string, string>()

  take(setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair = ''] = line.split(';')
      const at = pair.indexOf('=')
      const name = pair.slice(0, at).trim()
      const value = pair.slice(at + 1).trim()
      // h3's deleteCookie sends Max-Age=0 and an empty value.
      if (!value || /;\s*max-age=0/i.test(line)) this.#cookies.delete(name)
      else this.#cookies.set(name, value)
    }
  }

  /** The Cookie header a browser sends (Secure is ignored: the app runs over plain HTTP here). */
  header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }
}

/**
 * A plain request with no redirect following, over HTTP or HTTPS. `ca` trusts the dev IdP's
 * self-signed certificate in this process: NODE_EXTRA_CA_CERTS is only read at start.
 */
export class HttpClient {
  readonly #http = new HttpAgent({ keepAlive: true })
  readonly #https: HttpsAgent

  constructor(ca: string) {
    this.#https = new HttpsAgent({ keepAlive: true, ca })
  }

  send(url: URL, options: { method?: string, cookie?: string, form?: Record<string, string> } = {}): Promise<Reply> {
    const body = options.form && new URLSearchParams(options.form).toString()
    const headers: Record<string, string> = {}
    if (options.cookie) headers.cookie = options.cookie
    if (body) headers['content-type'] = 'application/x-www-form-urlencoded'
    const secure = url.protocol === 'https:'
    const send = secure ? httpsRequest : httpRequest
    return new Promise((resolve, reject) => {
      const request = send(url, { method: options.method ?? 'GET', headers, agent: secure ? this.#https : this.#http }, (response) => {
        let text = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => { text += chunk })
        response.on('end', () => resolve({
          status: response.statusCode ?? 0,
          location: response.headers.location,
          setCookies: response.headers['set-cookie'] ?? [],
          body: text,
        }))
      })
      request.on('error', reject)
      request.end(body)
    })
  }

  close(): void {
    this.#http.destroy()
    this.#https.destroy()
  }
}
