// @ts-check
// Dev users: any name signs in, no password. Everything about a user is derived from the
// name, so "alice" is the same `sub` on every run and every machine.

/** Names the login page offers as one-click buttons. */
export const suggestedUsers = ['alice', 'bob', 'carol']

/**
 * "Alice Smith" -> "alice-smith"; the empty string when no letter or digit is left.
 * @param {string} name
 */
export function slugOf(name) {
  return name.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40)
}

/**
 * An SVG avatar as a data: URL, so it shows offline and needs no route on the IdP.
 * @param {string} slug
 */
function avatarFor(slug) {
  const hue = [...slug].reduce((sum, char) => sum + char.charCodeAt(0) * 7, 0) % 360
  const svg = `<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 64 64'><rect width='64' height='64' rx='32' fill='hsl(${hue} 55% 45%)'/>`
    + `<text x='32' y='42' font-family='sans-serif' font-size='28' fill='white' text-anchor='middle'>${slug.charAt(0).toUpperCase()}</text></svg>`
  // Encoding only what a URL cannot hold keeps the id token (and a cookie session) small.
  return `data:image/svg+xml,${svg.replace(/[<>#%]/g, encodeURIComponent)}`
}

/**
 * The claims of a user; "alice-smith" is named "Alice Smith".
 * @param {string} slug what slugOf() returned for the name typed at login
 */
export function userClaims(slug) {
  return {
    sub: `dev|${slug}`,
    name: slug.split('-').map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join(' '),
    nickname: slug,
    email: `${slug}@example.com`,
    email_verified: true,
    picture: avatarFor(slug),
  }
}

/**
 * oidc-provider's `findAccount`: the account id is the `sub` itself, so no user table is needed.
 * @param {unknown} _ctx
 * @param {string} sub
 */
export async function findAccount(_ctx, sub) {
  if (!sub.startsWith('dev|')) return undefined
  const slug = sub.slice('dev|'.length)
  return { accountId: sub, claims: async () => userClaims(slug) }
}
