import type { Page, Response } from '@playwright/test'
import { expect, test } from './support/fixtures'
import { idpLoginForm } from './support/sign-in'

/** The callback's answer, while the browser comes back to the app from the IdP. */
function callbackResponse(page: Page): Promise<Response> {
  return page.waitForResponse(response => new URL(response.url()).pathname === '/auth/callback')
}

/** A failed sign-in lands on a page that says so and offers to try again; never a 500. */
async function expectFriendlySignInFailure(page: Page, response: Response | null) {
  expect(response?.status(), `the callback page (${response?.url()})`).toBeLessThan(500)
  await expect(page.getByTestId('try-again')).toBeVisible()
  await expect(page.getByTestId('try-again')).toHaveAttribute('href', /^\/auth\/login\b/)
}

test('a user who cancels at the IdP is told sign-in did not happen, and can try again', async ({ page }) => {
  await page.goto('/auth/login')
  const callback = callbackResponse(page)
  await page.getByRole('button', { name: 'Cancel and go back to the app' }).click()

  await expectFriendlySignInFailure(page, await callback)

  await page.getByTestId('try-again').click()
  await expect(idpLoginForm(page)).toBeVisible()
})

test('an IdP error sent straight to the callback shows the friendly page', async ({ page }) => {
  const response = await page.goto('/auth/callback?error=access_denied&error_description=The%20user%20cancelled&state=not-a-known-state')
  await expectFriendlySignInFailure(page, response)
})

test('a sign-in whose transaction cookie is gone (cleared mid-way) shows the friendly page', async ({ page, user }) => {
  await page.goto('/auth/login')
  await idpLoginForm(page).fill(user.loginName)
  // Only the app's transaction cookie: the IdP's own cookies (same host, another port) stay.
  await page.context().clearCookies({ name: /^__a0_tx/ })
  const callback = callbackResponse(page)
  await page.getByRole('button', { name: 'Continue' }).click()

  await expectFriendlySignInFailure(page, await callback)
})

test('"Try again" after a callback that cannot work (nothing signing in here) starts a new sign-in at the IdP', async ({ page }) => {
  const response = await page.goto('/auth/callback?code=a-used-code&state=a-state-nobody-started')
  await expectFriendlySignInFailure(page, response)

  await page.getByTestId('try-again').click()
  await expect(idpLoginForm(page)).toBeVisible()
})

test('"Try again" after a failed sign-in returns to the page it was for', async ({ page, user }) => {
  await page.goto('/profile')
  await page.getByRole('button', { name: 'Cancel and go back to the app' }).click()
  await expect(page.getByTestId('try-again')).toHaveAttribute('href', '/auth/login?returnTo=%2Fprofile')

  await page.getByTestId('try-again').click()
  await idpLoginForm(page).fill(user.loginName)
  await page.getByRole('button', { name: 'Continue' }).click()
  await expect(page).toHaveURL(/\/profile$/)
})
