/**
 * The sign-in form: what the dashboard's address shows a browser that is not signed in. It posts
 * the token to `<mount>/sign-in` (never in a URL, where proxies and access logs keep it). A nonce'd
 * style, form-action limited to this origin, and one nonce'd line of script: it adds the address's
 * `#fragment` (the dashboard page that was opened) to the form's action, and the redirect after a
 * sign-in, which names none of its own, keeps it: a link to `#/subscriptions/<id>` lands there.
 */
import { randomBytes } from 'node:crypto'
import { BASE_STYLE, SIGN_IN_STYLE } from './dashboard-style.js'
import { escapeHtml, html } from './http.js'
import type { AdminErrorCode } from './http.js'

export interface SignInPageOptions {
  status: 200 | 400 | 401 | 413 | 429 | 500
  /** What went wrong, shown above the form. */
  error?: { code: AdminErrorCode; message: string } | undefined
}

function page(mount: string, nonce: string, error: SignInPageOptions['error']): string {
  const alert = error
    ? `<p id="sign-in-error" class="error" role="alert" data-code="${escapeHtml(error.code)}">${escapeHtml(error.message)}</p>`
    : ''
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Sign in · Subscription scheduler</title>
<style nonce="${nonce}">${BASE_STYLE}${SIGN_IN_STYLE}</style>
</head>
<body>
<main class="sign-in">
  <form id="sign-in" method="post" action="${escapeHtml(mount)}/sign-in">
    <h1>Subscription scheduler<small>Sign in to the admin dashboard</small></h1>
    ${alert}
    <label for="token">Admin token</label>
    <input id="token" name="token" type="password" autocomplete="current-password" spellcheck="false" required autofocus>
    <button type="submit">Sign in</button>
    <p class="hint">Scripts send <span class="mono">Authorization: Bearer &lt;token&gt;</span> instead.</p>
  </form>
</main>
<script nonce="${nonce}">var form = document.getElementById('sign-in'); if (location.hash) form.action = form.getAttribute('action').split('#')[0] + location.hash;</script>
</body>
</html>
`
}

/** The form, with a fresh nonce; 401s say how to authenticate (RFC 9110 asks for the header). */
export function signInPage(mount: string, { status, error }: SignInPageOptions): Response {
  const nonce = randomBytes(16).toString('base64')
  return html(page(mount, nonce, error), {
    'content-security-policy': `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}),
  }, status)
}
