// @ts-check
// The IdP's HTML: one stylesheet, no script or font from a CDN, so it works offline.

/** @param {unknown} value */
const escape = (value) => String(value).replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)

const style = `
  :root { color-scheme: light dark; --accent: #635dff; --muted: #6b7280; --line: #d1d5db; --card: #fff; --page: #f3f4f6 }
  @media (prefers-color-scheme: dark) { :root { --card: #1f2937; --page: #111827; --line: #374151; --muted: #9ca3af } }
  * { box-sizing: border-box }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: var(--page);
         font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif }
  main { width: min(380px, 92vw); background: var(--card); border-radius: 12px; padding: 32px;
         box-shadow: 0 1px 3px rgb(0 0 0 / .12), 0 8px 24px rgb(0 0 0 / .06) }
  .badge { display: inline-block; font-size: 12px; font-weight: 600; letter-spacing: .04em; text-transform: uppercase;
           color: var(--accent); border: 1px solid currentColor; border-radius: 999px; padding: 2px 10px }
  h1 { font-size: 22px; margin: 16px 0 4px }
  p { color: var(--muted); margin: 0 0 20px; font-size: 14px }
  label { display: block; font-size: 14px; font-weight: 600; margin-bottom: 6px }
  input { width: 100%; font: inherit; padding: 10px 12px; border: 1px solid var(--line); border-radius: 8px; background: transparent; color: inherit }
  input:focus { outline: 2px solid var(--accent); outline-offset: 1px }
  button { font: inherit; font-weight: 600; cursor: pointer; border-radius: 8px; padding: 10px 14px; border: 1px solid var(--line);
           background: transparent; color: inherit }
  button.primary { width: 100%; margin-top: 12px; background: var(--accent); border-color: var(--accent); color: #fff }
  .users { display: flex; gap: 8px; flex-wrap: wrap; margin: 20px 0 0 }
  .users button { flex: 1; font-weight: 500 }
  .or { font-size: 13px; color: var(--muted); margin: 20px 0 0 }
  .cancel { display: block; margin-top: 20px; font-size: 14px; font-weight: 400; color: var(--muted); border: 0; width: 100% }
  .error { color: #dc2626; margin: 6px 0 0 }
  pre { white-space: pre-wrap; font-size: 13px }
`

/**
 * @param {string} title
 * @param {string} body HTML, already escaped
 */
function layout(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)} · Dev IdP</title>
<style>${style}</style></head><body><main><span class="badge">Dev IdP · not for production</span>${body}</main></body></html>`
}

/**
 * @param {{ action: string, cancelAction: string, clientName: string, users: string[], error?: string }} options
 */
export function loginPage({ action, cancelAction, clientName, users, error }) {
  return layout('Sign in', `
<h1>Sign in to ${escape(clientName)}</h1>
<p>Any name signs you in; there is no password. The same name is always the same user.</p>
<form method="post" action="${escape(action)}">
  <label for="name">User name</label>
  <input id="name" name="name" autocomplete="off" autofocus required placeholder="e.g. alice" ${error ? 'aria-invalid="true"' : ''}>
  ${error ? `<p class="error" role="alert">${escape(error)}</p>` : ''}
  <button class="primary" type="submit">Continue</button>
</form>
<div class="or">or pick a user</div>
<form class="users" method="post" action="${escape(action)}">
  ${users.map((user) => `<button type="submit" name="name" value="${escape(user)}">${escape(user)}</button>`).join('')}
</form>
<form method="post" action="${escape(cancelAction)}"><button class="cancel" type="submit">Cancel and go back to the app</button></form>`)
}

/**
 * oidc-provider's `logoutSource`: the app already asked to sign out, so confirm without a click.
 * @param {string} form oidc-provider's form, id "op.logoutForm"
 */
export function logoutPage(form) {
  return layout('Signing out', `
<h1>Signing you out…</h1>
<p>You are being signed out of the dev IdP and every app that uses it.</p>
${form}
<button class="primary" type="submit" form="op.logoutForm" name="logout" value="yes" id="confirm">Sign out</button>
<script>document.getElementById('confirm').click()</script>`)
}

export function signedOutPage() {
  return layout('Signed out', '<h1>Signed out</h1><p>You are signed out of the dev IdP.</p>')
}

/** @param {Record<string, unknown>} details oidc-provider's `error`, `error_description`, ... */
export function errorPage(details) {
  return layout('Error', `<h1>Something went wrong</h1>
${Object.entries(details).map(([key, value]) => `<pre><strong>${escape(key)}</strong>: ${escape(value)}</pre>`).join('')}`)
}
