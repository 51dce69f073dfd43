// "Your devices": a user sees each browser signed in to their account and signs any other one out;
// the signed-out device's next page, on any app server, asks it to log in. Signing out and the
// in-flight refresh run on every store; the rest behaves the same on any store (the activity log's
// records are checked on every store by the store contract) and runs in the embedded project.
import type { Browser, Page } from '@playwright/test'
import type { EncryptedSessionStore } from '~/server/session-stores/encrypted-session-store'
import { createSessionStore } from '~/server/utils/session-store-factory'
import { storeSettings } from './support/deployments'
import { expect, test } from './support/fixtures'
import { currentSessionOf, expectSignedIn, expectSignedOut, signIn, type DevUser } from './support/sign-in'

interface DevicesAnswer {
  store: string
  devices: Array<{ handle: string, label: string, type?: string, signedInAt: number, current: boolean }>
}

async function devicesOf(page: Page, appURL?: string): Promise<DevicesAnswer> {
  const response = await page.request.get(appURL ? `${appURL}/api/sessions` : '/api/sessions')
  expect(response.status(), await response.text()).toBe(200)
  return response.json()
}

/** A browser of its own (a device), signed in as `user`, on the devices page. */
async function deviceSignedIn(browser: Browser, user: DevUser): Promise<Page> {
  const page = await (await browser.newContext()).newPage()
  await signIn(page, user, '/devices')
  return page
}

test('one user on two browsers sees both, labelled, and signs the other out from the page; its next page is signed out', { tag: '@every-store' }, async ({ browser, user, store, deployment }) => {
  const laptop = await deviceSignedIn(browser, user)
  const phone = await deviceSignedIn(browser, user)
  const phoneSession = await currentSessionOf(phone)
  await laptop.reload()

  await expect(laptop.getByTestId('this-device')).toHaveCount(1)
  await expect(laptop.getByTestId('other-device')).toHaveCount(1)
  // The label comes from the browser's User-Agent (HeadlessChrome here, named Chrome by the parser).
  await expect(laptop.getByTestId('this-device')).toContainText(/Chrome \d+ on Linux \(computer\)/)
  await expect(laptop.getByTestId('this-device')).toContainText('this device')
  const listed = await devicesOf(laptop)
  expect(listed.devices).toHaveLength(2)
  for (const device of listed.devices) expect(device.handle).not.toContain(phoneSession.id)

  await laptop.getByTestId('other-device').getByRole('button', { name: 'Sign out' }).click()
  await expect(laptop.getByTestId('devices-message')).toContainText('is signed out')
  await expect(laptop.getByTestId('other-device')).toHaveCount(0)
  await expect(laptop.getByTestId('no-other-devices')).toBeVisible()

  expect(await store.holds(phoneSession.id)).toBe(false)
  await expectSignedOut(phone)
  if (deployment.peerAppURL) await expectSignedOut(phone, deployment.peerAppURL)
  await expectSignedIn(laptop, user)
  for (const page of [laptop, phone]) await page.context().close()
})

test('"Sign out all other devices" with three browsers leaves only this one signed in', async ({ browser, user }) => {
  const [first, second, third] = [await deviceSignedIn(browser, user), await deviceSignedIn(browser, user), await deviceSignedIn(browser, user)]
  await first.reload()
  await expect(first.getByTestId('other-device')).toHaveCount(2)

  await first.getByTestId('sign-out-others').click()
  await expect(first.getByTestId('devices-message')).toHaveText('Every other device is signed out.')
  await expect(first.getByTestId('other-device')).toHaveCount(0)

  await expectSignedOut(second)
  await expectSignedOut(third)
  await expectSignedIn(first, user)
  expect((await devicesOf(first)).devices).toEqual([expect.objectContaining({ current: true })])
  for (const page of [first, second, third]) await page.context().close()
})

test('a handle of another user\'s session gets 404 and ends nothing; this device\'s own gets 409; signed out gets 401', async ({ browser, newUser, store }) => {
  const [alice, bob] = [newUser(), newUser()]
  const alicesBrowser = await deviceSignedIn(browser, alice)
  const bobsBrowser = await deviceSignedIn(browser, bob)
  const bobsSession = await currentSessionOf(bobsBrowser)
  const [bobsHandle] = (await devicesOf(bobsBrowser)).devices.map(device => device.handle)
  const [alicesOwn] = (await devicesOf(alicesBrowser)).devices.map(device => device.handle)

  // Sent from the app's own page (same origin), as the page's script would.
  const remove = (page: Page, handle: string) => page.evaluate(async path => (await fetch(path, { method: 'DELETE' })).status, `/api/sessions/${handle}`)
  expect(await remove(alicesBrowser, bobsHandle!)).toBe(404)
  expect(await remove(alicesBrowser, 'not-a-handle')).toBe(404)
  expect(await remove(alicesBrowser, alicesOwn!)).toBe(409)
  expect(await store.holds(bobsSession.id)).toBe(true)
  await expectSignedIn(bobsBrowser, bob)

  const stranger = await (await browser.newContext()).newPage()
  expect((await stranger.request.get('/api/sessions')).status()).toBe(401)
  for (const page of [alicesBrowser, bobsBrowser, stranger]) await page.context().close()
})

test('the activity log shows each sign-in, the devices signed out, and the IdP\'s sign-outs, newest first', async ({ browser, user, idp }) => {
  const laptop = await deviceSignedIn(browser, user)
  const phone = await deviceSignedIn(browser, user)
  const tablet = await deviceSignedIn(browser, user)
  await laptop.reload()
  await laptop.getByTestId('other-device').first().getByRole('button', { name: 'Sign out' }).click()
  await expect(laptop.getByTestId('other-device')).toHaveCount(1)
  await laptop.getByTestId('sign-out-others').click()
  await expect(laptop.getByTestId('other-device')).toHaveCount(0)
  // The IdP ends the laptop's IdP session: a logout token naming its sid.
  const { sid } = await currentSessionOf(laptop)
  await idp.endSession(sid)

  const again = await deviceSignedIn(browser, user)
  const events = (await (await again.request.get('/api/activity')).json()) as { events: Array<{ type: string, device?: string }> }
  expect(events.events.map(event => event.type)).toEqual([
    'signed-in', 'signed-out-by-idp', 'other-devices-signed-out', 'device-signed-out', 'signed-in', 'signed-in', 'signed-in',
  ])
  expect(events.events[0]!.device).toMatch(/Chrome \d+ on Linux \(computer\)/)
  await expect(again.getByTestId('activity').getByRole('listitem')).toHaveCount(7)
  await expect(again.getByTestId('activity')).toContainText('You signed out all other devices (1)')
  await expect(again.getByTestId('activity')).toContainText('Signed out by the identity provider')
  for (const page of [laptop, phone, tablet, again]) await page.context().close()
})

test('a token refresh in flight when the device is signed out cannot bring its session back', { tag: '@every-store' }, async ({ browser, user, deployment }) => {
  test.skip(deployment.store === 'embedded', 'The embedded store is one process: the test cannot write beside the app server (the store contract checks that refusal, and the tombstone, on every store).')
  // The same store the app servers use, opened here as a second app server would: the SDK's own write path.
  const store = createSessionStore(storeSettings(deployment)) as EncryptedSessionStore
  try {
    const laptop = await deviceSignedIn(browser, user)
    const phone = await deviceSignedIn(browser, user)
    const phoneSession = await currentSessionOf(phone)
    // What the SDK holds while the phone's refresh is in flight: the state it read before.
    const readBefore = await store.get(phoneSession.id)
    expect(readBefore?.user?.sub).toBe(user.sub)

    await laptop.reload()
    await laptop.getByTestId('other-device').getByRole('button', { name: 'Sign out' }).click()
    await expect(laptop.getByTestId('other-device')).toHaveCount(0)

    // The refresh returns; the SDK writes the refreshed state, as it does after every refresh.
    await store.set(phoneSession.id, { ...readBefore!, refreshToken: 'refreshed-after-the-sign-out' })
    expect(await store.get(phoneSession.id)).toBeUndefined()
    await expectSignedOut(phone)
    for (const page of [laptop, phone]) await page.context().close()
  }
  finally {
    await store.close()
  }
})
