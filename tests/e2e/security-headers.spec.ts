import type { APIResponse, Page } from '@playwright/test'
import { expect, test } from './support/other-site'
import { signIn } from './support/sign-in'

const nonceOf = (csp: string) => /script-src 'nonce-([^']+)' 'strict-dynamic'/.exec(csp)?.[1]

/** What every answer of the app carries, page or API. */
function expectHeadersOfEveryAnswer(response: APIResponse) {
  const headers = response.headers()
  expect(headers['content-security-policy']).toContain('frame-ancestors \'none\'')
  expect(headers['x-frame-options']).toBe('DENY')
  expect(headers['referrer-policy']).toBe('strict-origin-when-cross-origin')
  expect(headers['cache-control']).toBe('no-store')
  expect(headers['x-powered-by']).toBeUndefined()
}

/** Collects CSP violations and uncaught errors on the app's own pages (not on the IdP's). */
async function problemsOnAppPages(page: Page, appURL: string): Promise<string[]> {
  const problems: string[] = []
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`[csp] ${event.violatedDirective} refused ${event.blockedURI || 'inline code'} on ${event.documentURI}`)
    })
  })
  page.on('console', (message) => {
    if (message.text().startsWith('[csp]') && message.text().includes(` on ${appURL}`)) problems.push(message.text())
  })
  page.on('pageerror', (error) => {
    if (page.url().startsWith(appURL)) problems.push(`${page.url()}: ${error.message}`)
  })
  return problems
}

test('a page carries a strict CSP with a fresh nonce on every request, and only its nonced scripts', async ({ request }) => {
  const [first, second] = [await request.get('/'), await request.get('/')]
  expectHeadersOfEveryAnswer(first)

  const csp = first.headers()['content-security-policy']!
  expect(csp).toContain('object-src \'none\'')
  expect(csp).toContain('base-uri \'none\'')
  expect(csp).toContain('script-src-attr \'none\'')
  expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/)
  const nonce = nonceOf(csp)
  expect(nonce, `a nonce in the script-src of ${csp}`).toBeTruthy()
  expect(nonceOf(second.headers()['content-security-policy']!)).not.toBe(nonce)

  const html = await first.text()
  const scripts = html.match(/<script\b[^>]*>/g) ?? []
  expect(scripts.length).toBeGreaterThan(0)
  for (const script of scripts) expect(script).toContain(`nonce="${nonce}"`)
})

test('a production build tells browsers to use HTTPS only', async ({ request }) => {
  expect((await request.get('/')).headers()['strict-transport-security']).toBe('max-age=31536000; includeSubDomains')
})

test('an API answer carries the headers too, and a CSP that allows nothing', async ({ request }) => {
  const response = await request.get('/api/health')
  expect(response.status()).toBe(200)
  expectHeadersOfEveryAnswer(response)
  expect(response.headers()['content-security-policy']).toBe('default-src \'none\'; frame-ancestors \'none\'')
})

test('the app\'s scripts and styles under /_nuxt keep their long cache', async ({ request }) => {
  const html = await (await request.get('/')).text()
  const asset = /src="(\/_nuxt\/[^"]+\.js)"/.exec(html)?.[1]
  expect(asset, 'a /_nuxt script on the home page').toBeTruthy()

  const response = await request.get(asset!)
  expect(response.status()).toBe(200)
  expect(response.headers()['cache-control']).toBe('public, max-age=31536000, immutable')
})

test('signing in, then the profile and the demo page run under the CSP without a violation', async ({ page, user, deployment }) => {
  const problems = await problemsOnAppPages(page, deployment.appURL)

  await signIn(page, user)
  await expect(page.getByTestId('profile-name')).toHaveText(user.name)
  // The avatar (a data: URL from the dev IdP, https from Auth0) is allowed by img-src.
  await expect.poll(() => page.locator('img.avatar').evaluate(img => (img as HTMLImageElement).naturalWidth)).toBeGreaterThan(0)

  // Moving in the app loads more scripts (allowed by 'strict-dynamic') and fetches the API.
  await page.getByRole('link', { name: 'Back-channel logout demo' }).click()
  await expect(page.getByTestId('end-idp-session')).toBeEnabled()
  await page.waitForResponse(response => response.url().endsWith('/api/demo/sessions'))
  await page.reload()
  await expect(page.getByTestId('end-idp-session')).toBeEnabled()

  expect(problems).toEqual([])
})

test('a page on another site cannot show the app in a frame', async ({ page, otherSite, deployment }) => {
  const attacker = await otherSite.serve(`<h1>Click the button</h1><iframe src="${deployment.appURL}/" width="800" height="600"></iframe>`, '127.0.0.1')
  const framedAnswer = page.waitForResponse(response => response.url() === `${deployment.appURL}/`)

  await page.goto(attacker)

  expect((await framedAnswer).status()).toBe(200) // the app answered, and the browser refused to show it
  await expect(page.getByRole('heading', { name: 'Click the button' })).toBeVisible()
  const frame = page.frames().find(candidate => candidate !== page.mainFrame())
  expect(frame?.url()).not.toBe(`${deployment.appURL}/`)
  await expect(page.frameLocator('iframe').getByText('Sign in with Auth0')).toHaveCount(0)
})
