// What every page gives a user whatever their screen: its own title, a header that fits a phone,
// and no sideways scrolling.
import type { Page } from '@playwright/test'
import { expect, test } from './support/fixtures'
import { signIn } from './support/sign-in'

const demo = '/demo/backchannel-logout'
const phone = { width: 390, height: 844 }

async function expectNoSidewaysScroll(page: Page) {
  const { pageWidth, windowWidth } = await page.evaluate(() => ({ pageWidth: document.documentElement.scrollWidth, windowWidth: window.innerWidth }))
  expect(pageWidth, `${page.url()} is ${pageWidth} px wide in a ${windowWidth} px window`).toBeLessThanOrEqual(windowWidth)
}

test('each page has a title of its own, which a tab or a bookmark shows', async ({ page, user }) => {
  await page.goto('/')
  await expect(page).toHaveTitle('Nuxt + Auth0 sessions')

  await signIn(page, user)
  await expect(page).toHaveTitle('Profile · Nuxt + Auth0 sessions')
  await page.getByRole('link', { name: 'Back-channel logout demo' }).click()
  await expect(page).toHaveTitle('Back-channel logout demo · Nuxt + Auth0 sessions')
  await page.getByRole('link', { name: 'Your devices' }).click()
  await expect(page).toHaveTitle('Your devices · Nuxt + Auth0 sessions')
  await page.goto('/no-such-page')
  await expect(page).toHaveTitle('This page does not exist · Nuxt + Auth0 sessions')
})

test.describe('on a 390 px phone', () => {
  test.use({ viewport: phone })

  test('no page scrolls sideways, signed out, signed in, or on the demo after its session ended', async ({ page, goto, browser, user }) => {
    await page.goto('/')
    await expectNoSidewaysScroll(page)

    // A second device, so that the demo's table of other sessions has a row.
    const laptop = await (await browser.newContext()).newPage()
    await signIn(laptop, user)
    await signIn(page, user)
    await expectNoSidewaysScroll(page)
    await page.goto('/')
    await expectNoSidewaysScroll(page)
    await page.goto('/devices')
    await expect(page.getByTestId('other-device')).toHaveCount(1)
    await expectNoSidewaysScroll(page)
    await goto(demo, { waitUntil: 'hydration' })
    await expect(page.getByTestId('other-sessions')).toBeVisible()
    await expectNoSidewaysScroll(page)

    await page.getByTestId('end-idp-session').click()
    await expect(page.getByTestId('session-state')).toHaveText('ended')
    await expect(page.getByTestId('events')).toContainText('This browser\'s session left the store')
    await expectNoSidewaysScroll(page)
    await laptop.context().close()
  })

  test('the header\'s links are behind a Menu button, which opens them and closes once one is followed or on Escape', async ({ page, user }) => {
    await signIn(page, user)
    const menu = page.getByTestId('menu-toggle')
    const demoLink = page.getByRole('link', { name: 'Back-channel logout demo' })
    await expect(demoLink).toBeHidden()

    await menu.click()
    await expect(page.getByRole('link', { name: 'Profile', exact: true })).toHaveAttribute('aria-current', 'page')
    await demoLink.click()
    await expect(page).toHaveURL(new RegExp(`${demo}$`))
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Back-channel logout')
    await expect(demoLink).toBeHidden()

    await menu.click()
    await expect(demoLink).toHaveAttribute('aria-current', 'page')
    await page.keyboard.press('Escape')
    await expect(demoLink).toBeHidden()
    await expect(menu).toBeFocused()

    await menu.click()
    await page.getByRole('link', { name: 'Log out' }).click()
    await expect(page.getByTestId('login')).toBeVisible()
  })

  test('the Menu button works before the page\'s scripts have run (here: with JavaScript off)', async ({ page, browser, user }) => {
    await signIn(page, user)
    const noScript = await (await browser.newContext({ viewport: phone, javaScriptEnabled: false, storageState: await page.context().storageState() })).newPage()
    await noScript.goto('/')
    await noScript.getByTestId('menu-toggle').click()
    await noScript.getByRole('link', { name: 'Profile', exact: true }).click()
    await expect(noScript.getByTestId('profile-name')).toHaveText(user.name)
    await noScript.context().close()
  })
})
