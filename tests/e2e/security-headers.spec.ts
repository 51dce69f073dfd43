// The headers in a browser: the CSP lets the app's pages run, and no other site can frame them. The
// headers of each answer themselves: tests/routes/app-routes.test.ts.
import type { Page } from '@playwright/test'
import { expect, test } from './support/other-site'
import { signIn } from './support/sign-in'

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
